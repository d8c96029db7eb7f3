/**
 * Child processes for the benchmarks: every one is registered, killed when the
 * runner exits (normally, on a signal, or on an uncaught error), and every wait
 * on one has a deadline.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH_DIR, '..');
/** Bun comes from the bench's own package (bench/package.json), never the app's: an installer must not carry it. */
export const BUN_PATH = join(BENCH_DIR, 'node_modules/@oven/bun-linux-x64/bin/bun');

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ── servers: a JSON line protocol on stdin/stdout (bench/servers/control.ts) ──

/** A server's answer on the control protocol: JSON fields, narrowed where they are read. */
export type ControlReply = Record<string, unknown>;

/** A numeric field of a control reply; throws when the server sent something else. */
export function replyNumber(reply: ControlReply, key: string): number {
  const value = reply[key];
  if (typeof value !== 'number') throw new Error(`control reply: ${key} is not a number: ${JSON.stringify(reply)}`);
  return value;
}

export interface ServerHandle {
  kind: string;
  pid: number;
  port: number;
  child: ChildProcess;
  request(cmd: string, timeoutMs?: number, args?: Record<string, unknown>): Promise<ControlReply>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  stderr(): string;
}

export function bunAvailable(): { ok: true; version: string } | { ok: false; reason: string } {
  if (!existsSync(BUN_PATH)) {
    const where = `${process.platform}-${process.arch}`;
    return {
      ok: false,
      reason:
        where === 'linux-x64'
          ? `Bun is not installed (no ${BUN_PATH}): run \`npm ci --prefix bench\``
          : `the bench's Bun package is for linux-x64 only, not ${where}`,
    };
  }
  const result = spawnSync(BUN_PATH, ['--version'], { timeout: 10_000, encoding: 'utf8' });
  if (result.status !== 0) return { ok: false, reason: `bun --version failed: ${result.error ?? result.stderr}` };
  return { ok: true, version: result.stdout.trim() };
}

export async function startServer(
  kind: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<ServerHandle> {
  const child = track(
    spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const { stdin, stdout, stderr } = child;
  if (!stdin || !stdout || !stderr) {
    child.kill('SIGKILL');
    throw new Error(`${kind} has no stdio pipes: ${command}`);
  }
  let errText = '';
  stderr.on('data', (chunk: Buffer) => {
    errText = (errText + chunk.toString()).slice(-4000);
  });
  const waiting = new Map<number, (value: ControlReply) => void>();
  let nextId = 1;
  const ready = new Promise<{ port: number; pid: number }>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      reject(new Error(`${kind} exited (${code ?? signal}) before it was ready: ${errText.trim()}`));
    });
    child.on('error', reject);
    createInterface({ input: stdout }).on('line', (line) => {
      let value: ControlReply;
      try {
        value = JSON.parse(line) as ControlReply;
      } catch {
        return;
      }
      if (value.ready) resolve({ port: value.port as number, pid: value.pid as number });
      else if (typeof value.id === 'number') {
        waiting.get(value.id)?.(value);
        waiting.delete(value.id);
      }
    });
  });
  const { port } = await withTimeout(ready, timeoutMs, `${kind} to start`);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${kind} reported ready without a process id`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const handle: ServerHandle = {
    kind,
    pid,
    port,
    child,
    request(cmd, ms = 20_000, args = {}) {
      const id = nextId++;
      const reply = new Promise<ControlReply>((resolve) => waiting.set(id, resolve));
      stdin.write(`${JSON.stringify({ ...args, id, cmd })}\n`);
      return withTimeout(reply, ms, `${kind} ${cmd}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stdin.write(`${JSON.stringify({ id: 0, cmd: 'stop' })}\n`);
      try {
        await withTimeout(exited, 5_000, `${kind} to stop`);
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    stderr: () => errText,
  };
  return handle;
}

// ── /proc: memory and CPU of any child, Node or Bun ────────────────────────────

export function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets the peak-RSS mark (VmHWM) so the next peak is the peak of what follows. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) of a process and all its threads, in ms. */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (fields 14 and 15 of stat(5)), in clock ticks (100 Hz)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// ── the member process: Node IPC (bench/clients.ts) ─────────────────────────────

export interface ClientsHandle {
  pid: number;
  call<T = Record<string, unknown>>(message: Record<string, unknown>, timeoutMs: number): Promise<T>;
  /** A message that wants no reply (a peer's `peerRound`). */
  tell(message: Record<string, unknown>): void;
  stop(): Promise<void>;
}

/**
 * Raises a process's soft limit on open files to `wanted` (at most its hard limit), with
 * prlimit(1) from outside: a Node process cannot raise its own. Returns the soft limit it has now.
 */
export function raiseFileLimit(pid: number, wanted: number): number {
  const read = (): { soft: number; hard: number } => {
    const line = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    const value = (text: string | undefined): number => (text === 'unlimited' ? Infinity : Number(text ?? 0));
    return { soft: value(line?.[1]), hard: value(line?.[2]) };
  };
  const { soft, hard } = read();
  if (soft >= wanted) return soft;
  const target = Math.min(wanted, hard);
  spawnSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${Number.isFinite(hard) ? hard : target}`], {
    timeout: 5_000,
  });
  return read().soft;
}

/**
 * Starts a member process (bench/clients.ts). `onEvent` hears what it reports unasked (a peer's
 * finished round). Messages use structured clone, so raw latency samples cross as typed arrays.
 */
export async function startClients(onEvent?: (event: Record<string, unknown>) => void): Promise<ClientsHandle> {
  const child = track(
    fork(join(BENCH_DIR, 'clients.ts'), [], {
      cwd: ROOT,
      execArgv: ['--max-old-space-size=4096'],
      stdio: 'inherit',
      serialization: 'advanced',
    }),
  );
  const { pid } = child;
  if (pid === undefined) {
    child.kill('SIGKILL');
    throw new Error('the member process could not be started');
  }
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id?: number; event?: string; error?: string }) => {
    if (message.id === undefined) {
      onEvent?.(message);
      return;
    }
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) entry?.reject(new Error(message.error));
    else entry?.resolve(message);
  });
  child.on('exit', (code, signal) => {
    for (const entry of waiting.values()) entry.reject(new Error(`member process exited (${code ?? signal})`));
    waiting.clear();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid,
    call<T>(message: Record<string, unknown>, timeoutMs: number): Promise<T> {
      const id = nextId++;
      // The member process answers each command with its reply object (bench/clients.ts).
      const reply = new Promise<unknown>((resolve, reject) => waiting.set(id, { resolve, reject })) as Promise<T>;
      child.send({ ...message, id });
      return withTimeout(reply, timeoutMs, `members: ${String(message.cmd)}`);
    },
    tell(message) {
      if (child.connected) child.send({ ...message, id: 0 });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      try {
        await withTimeout(exited, 3_000, 'member process to stop');
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ── the machine's other load: benchmarks share it with whatever else runs ─────

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3]! + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU busy over `ms` (0-1), everything included. */
export async function machineBusy(ms = 500): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits (up to `maxWaitMs`) until the machine is mostly idle, so that a
 * measurement does not start while another job (a test run, a build) is using
 * the cores. Returns the busy share seen last, to be recorded with the result.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = 0.15): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await machineBusy();
  while (busy > threshold && Date.now() < deadline) busy = await machineBusy(1_000);
  return busy;
}
