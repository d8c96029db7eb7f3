import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const children = new Set<ChildProcessWithoutNullStreams>();

/** Kills every child still running; call from afterEach/afterAll. */
export function killChildren(): void {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  children.clear();
}

/** Starts `node script args` (Node 24 from node_modules) and resolves at the first stdout line matching `ready`. */
export function spawnNode(
  script: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcessWithoutNullStreams; line: string; lines: string[]; stderr: () => string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: 'pipe' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (ready.test(line)) {
        clearTimeout(timer);
        resolve({ child, line, lines, stderr: () => stderr });
      }
    });
  });
}

export function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** A port that was free a moment ago (for a host that must come back on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
