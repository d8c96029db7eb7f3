/**
 * Prototype for docs/SCALING.md: does sharing a room's fan-out through Redis
 * pub/sub, with the room's sequence number from Redis INCR, keep delivery exact
 * and fast enough to plan on? In one run, for each size N, three topologies:
 *
 * - one process: one edge holds all N members, local counter, local fan-out
 *   (today's Beacon, reduced to its message path);
 * - one process + Redis: the same single edge, but every message takes the
 *   shared path (INCR, PUBLISH, back through its own subscription): the cost of
 *   the hop alone;
 * - two processes + Redis: two edges with N/2 members each, the sender on the
 *   first; the second hears every message only through Redis.
 *
 * Each measures one message in flight (p50/p99 per delivery, and until the last
 * member), a burst (best of two), the CPU the edges and Redis used, and then
 * checks that every member got every message exactly once, in order.
 *
 *   node bench/prototypes/shared-fanout.ts                      # N = 1000 and 4000 (a few minutes)
 *   node bench/prototypes/shared-fanout.ts --sizes 200           # a quick look
 *   node bench/prototypes/shared-fanout.ts --mutate drop-publish # must fail: one publish is dropped once
 *   node bench/prototypes/shared-fanout.ts --mutate duplicate-publish   # must fail too
 *   node bench/prototypes/shared-fanout.ts --mutate reorder-publish     # must fail too
 *
 * Redis is Debian's redis-server (`apt-get install redis-server`), started here on
 * 127.0.0.1 and a free port, with no persistence, and killed when this exits.
 * Everything is bounded: each phase has a deadline and the whole run stops itself
 * after 10 minutes. Results go to bench/prototypes/results/ (or `--out DIR`).
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { BENCH_DIR, procCpuMs, startServer, withTimeout, type ServerHandle } from '../lib/proc.ts';
import { fmt, type Summary } from '../lib/stats.ts';

const RUN_BUDGET_MS = 10 * 60_000;
const PROTO_DIR = join(BENCH_DIR, 'prototypes');

// ── arguments ─────────────────────────────────────────────────────────────────

function option(name: string): string | null {
  const at = process.argv.indexOf(name);
  return at === -1 ? null : (process.argv[at + 1] ?? null);
}

const MUTATIONS = {
  'drop-publish': 'BEACON_PROTO_DROP_PUBLISH',
  'duplicate-publish': 'BEACON_PROTO_DUPLICATE_PUBLISH',
  'reorder-publish': 'BEACON_PROTO_REORDER_PUBLISH',
} as const;
type Mutation = keyof typeof MUTATIONS;
const isMutation = (value: string): value is Mutation => Object.hasOwn(MUTATIONS, value);
const mutateArg = option('--mutate');
if (mutateArg !== null && !isMutation(mutateArg)) {
  console.error(`--mutate takes ${Object.keys(MUTATIONS).join(', ')}, not ${mutateArg}`);
  process.exit(2);
}
const mutation: Mutation | null = mutateArg;
const sizes = (option('--sizes') ?? (mutation ? '200' : '1000,4000')).split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 10_000)) {
  console.error('--sizes takes whole numbers from 2 to 10000, comma-separated');
  process.exit(2);
}
const ROUNDS = 60;
const WARMUP = 10;
/** Burst size: about 0.5-1 M deliveries at the default sizes, as bench/run.ts does. */
const burstCount = (n: number): number => (n <= 1000 ? 1000 : 250);
/** The publish a mutation drops or doubles: a message in the measured latency rounds. */
const MUTATED_PUBLISH = WARMUP + 3;

// ── child processes: every one is killed when this exits ──────────────────────

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));
setTimeout(() => {
  console.error(`shared-fanout: the run passed its ${RUN_BUDGET_MS / 60_000} min budget; stopping`);
  process.exit(3);
}, RUN_BUDGET_MS).unref();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ port: number; pid: number; version: string }> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  if (probe.status !== 0) {
    console.error('shared-fanout: no redis-server on the PATH. Install it with `apt-get install -y redis-server`.');
    process.exit(2);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'beacon-proto-redis-'));
  tempDirs.push(dir);
  // No persistence, loopback only, its own private port and directory: nothing outlives the run.
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.add(child);
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      const client = await connectRedis(port);
      const pong = await client.ping();
      client.destroy();
      if (pong === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, pid: child.pid!, version: probe.stdout.trim() };
}

/**
 * A node-redis connection that fails instead of reconnecting: the run is bounded and a lost
 * Redis is a failed run. Its 'error' events are logged (node-redis throws one nobody listens to);
 * the command that met the error rejects on its own.
 */
async function connectRedis(port: number) {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
  client.on('error', (error: Error) => {
    if (!client.isReady) return; // a refused connection while redis-server starts: connect() rejects
    console.error(`shared-fanout: redis: ${error.message}`);
  });
  await client.connect();
  return client;
}

interface Members {
  pid: number;
  call<T>(message: Record<string, unknown>, timeoutMs: number): Promise<T>;
  stop(): void;
}

function startMembers(): Members {
  const child = fork(join(PROTO_DIR, 'members.ts'), [], { stdio: 'inherit' });
  children.add(child);
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id: number; error?: string }) => {
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) entry?.reject(new Error(message.error));
    else entry?.resolve(message);
  });
  child.on('exit', (code, signal) => {
    for (const entry of waiting.values()) entry.reject(new Error(`member process exited (${code ?? signal})`));
  });
  return {
    pid: child.pid!,
    call<T>(message: Record<string, unknown>, timeoutMs: number): Promise<T> {
      const id = nextId++;
      const reply = new Promise<unknown>((resolve, reject) => waiting.set(id, { resolve, reject })) as Promise<T>;
      child.send({ ...message, id });
      return withTimeout(reply, timeoutMs, `members: ${String(message.cmd)}`);
    },
    stop: () => void child.kill('SIGKILL'),
  };
}

// ── the cost of a sequence number ─────────────────────────────────────────────

async function seqCost(port: number) {
  const client = await connectRedis(port);
  await client.del('bench:seq');
  const one = 3_000;
  let t0 = performance.now();
  for (let i = 0; i < one; i++) await client.incr('bench:seq');
  const oneAtATimeUs = ((performance.now() - t0) * 1000) / one;
  const piped = 30_000;
  t0 = performance.now();
  // Issued in one tick, node-redis writes them together (auto-pipelining); Promise.all is its advice.
  const replies: Promise<number>[] = [];
  for (let i = 0; i < piped; i++) replies.push(client.incr('bench:seq'));
  const values = await Promise.all(replies);
  const pipelinedUs = ((performance.now() - t0) * 1000) / piped;
  // Every INCR gave the next number, none twice: what the room's order rests on.
  const gapless = values.every((value, i) => value === one + i + 1);
  let counter = 0;
  t0 = performance.now();
  for (let i = 0; i < 1_000_000; i++) counter++;
  const localUs = ((performance.now() - t0) * 1000) / 1_000_000;
  client.destroy();
  return { oneAtATimeUs, pipelinedUs, localUs, gapless, counter };
}

// ── one topology at one size ──────────────────────────────────────────────────

interface Topology {
  name: string;
  edges: ('alone' | 'shared')[];
}
const TOPOLOGIES: Topology[] = mutation
  ? [{ name: 'two processes + Redis', edges: ['shared', 'shared'] }]
  : [
      { name: 'one process', edges: ['alone'] },
      { name: 'one process + Redis', edges: ['shared'] },
      { name: 'two processes + Redis', edges: ['shared', 'shared'] },
    ];

interface LatencyReply {
  delivery: Summary;
  lastMember: Summary;
  timeouts: number;
}
interface BurstReply {
  outcome: string;
  deliveries: number;
  ms: number;
  perSecond: number;
}
interface VerifyReply {
  messages: number;
  receivers: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  faults: string[];
}

/** The edges' summed wait for sequence numbers so far (µs) and how many numbers they took. */
async function seqWait(edges: ServerHandle[]): Promise<{ us: number; count: number }> {
  const stats = await Promise.all(edges.map((e) => e.request('stats')));
  return {
    us: stats.reduce((sum, s) => sum + Number(s.seqWaitUs), 0),
    count: stats.reduce((sum, s) => sum + Number(s.seqCount), 0),
  };
}

async function runOne(topology: Topology, n: number, redis: { port: number; pid: number }) {
  const env: Record<string, string> = {};
  if (mutation) env[MUTATIONS[mutation]] = String(MUTATED_PUBLISH);
  const edges: ServerHandle[] = [];
  const members = startMembers();
  try {
    for (const mode of topology.edges) {
      edges.push(
        await startServer(
          `edge ${edges.length}`,
          process.execPath,
          [join(PROTO_DIR, 'edge.ts'), mode, String(redis.port)],
          env,
        ),
      );
    }
    const capacity = WARMUP + ROUNDS + 2 * burstCount(n) + 10;
    const connected = await members.call<{ ms: number }>(
      { cmd: 'connect', ports: edges.map((e) => e.port), n, capacity },
      120_000,
    );
    const usesRedis = topology.edges.includes('shared');
    const cpu = (): number =>
      edges.reduce((sum, e) => sum + procCpuMs(e.pid), 0) + (usesRedis ? procCpuMs(redis.pid) : 0);
    const load = loadavg()[0]!;
    let cpuBefore = cpu();
    const latency = await members.call<LatencyReply>(
      { cmd: 'latency', count: ROUNDS, warmup: WARMUP, roundTimeoutMs: mutation ? 2_000 : 10_000 },
      180_000,
    );
    const latencyCpuMs = cpu() - cpuBefore;
    const seqAfterLatency = await seqWait(edges);
    const bursts: (BurstReply & { cpuMs: number })[] = [];
    for (let i = 0; i < 2; i++) {
      cpuBefore = cpu();
      const burst = await members.call<BurstReply>({ cmd: 'burst', count: burstCount(n), timeoutMs: 60_000 }, 90_000);
      bursts.push({ ...burst, cpuMs: cpu() - cpuBefore });
    }
    const best = bursts.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const verify = await members.call<VerifyReply>({ cmd: 'verify' }, 30_000);
    const seqAfterBursts = await seqWait(edges);
    return {
      topology: topology.name,
      n,
      load,
      connectMs: connected.ms,
      latency,
      latencyCpuUsPerDelivery: (latencyCpuMs * 1000) / ((ROUNDS + WARMUP) * n),
      burst: { ...best, messages: burstCount(n), cpuUsPerDelivery: (best.cpuMs * 1000) / best.deliveries },
      seqWaitUsInFlight: seqAfterLatency.us / Math.max(1, seqAfterLatency.count),
      seqWaitUsInBursts:
        (seqAfterBursts.us - seqAfterLatency.us) / Math.max(1, seqAfterBursts.count - seqAfterLatency.count),
      verify,
    };
  } finally {
    members.stop();
    await Promise.all(edges.map((e) => e.stop()));
  }
}

// ── the run ───────────────────────────────────────────────────────────────────

const startedAt = new Date();
const redis = await startRedis();
console.log(`Redis ${redis.version.split(' ')[2] ?? ''} on 127.0.0.1:${redis.port} (no persistence)`);
const seq = await seqCost(redis.port);
console.log(
  `seq allocation: Redis INCR one at a time ${fmt(seq.oneAtATimeUs)} µs, pipelined ${fmt(seq.pipelinedUs)} µs, ` +
    `local counter ${fmt(seq.localUs * 1000)} ns; ${seq.gapless ? 'gapless' : 'NOT GAPLESS'}`,
);

const results: Awaited<ReturnType<typeof runOne>>[] = [];
for (const n of sizes) {
  for (const topology of TOPOLOGIES) {
    const result = await runOne(topology, n, redis);
    results.push(result);
    const v = result.verify;
    console.log(
      `N=${n} ${topology.name}: p50 ${fmt(result.latency.delivery.p50)} ms, p99 ${fmt(result.latency.delivery.p99)} ms, ` +
        `burst ${fmt(result.burst.perSecond)}/s (${result.burst.outcome}); ` +
        `${v.messages} messages × ${v.receivers} members: lost ${v.lost}, duplicated ${v.duplicated}, out of order ${v.outOfOrder}`,
    );
  }
}

const faulty = results.filter((r) => r.verify.lost || r.verify.duplicated || r.verify.outOfOrder);
const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
const model = /model name\s*:\s*(.*)/.exec(cpuInfo)?.[1] ?? 'unknown CPU';
const lines = [
  `# Shared fan-out prototype, ${startedAt.toISOString()}`,
  '',
  `Machine: ${cpuInfo.split('\nprocessor').length} × ${model}, Node ${process.version}; ${redis.version.split(' ').slice(0, 3).join(' ')}.` +
    (mutation ? ` **Mutation: ${mutation} (publish #${MUTATED_PUBLISH} of the first edge).**` : ''),
  '',
  '## Sequence number per message',
  '',
  '| source | µs per number |',
  '| --- | ---: |',
  `| Redis INCR, one at a time (a round trip each) | ${fmt(seq.oneAtATimeUs)} |`,
  `| Redis INCR, pipelined (30,000 in flight) | ${fmt(seq.pipelinedUs)} |`,
  `| a counter in the process | ${fmt(seq.localUs, 4)} |`,
  '',
  `The 33,000 INCRs gave consecutive numbers: ${seq.gapless ? 'yes' : '**no**'}.`,
  '',
  '## Fan-out',
  '',
  '| topology | N | p50 ms | p99 ms | last member p50 ms | burst msg/s | CPU µs/delivery, in flight / burst | seq wait µs/message, in flight / burst | connect ms | load avg | lost / duplicated / out of order |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.topology} | ${r.n} | ${fmt(r.latency.delivery.p50)} | ${fmt(r.latency.delivery.p99)} | ${fmt(r.latency.lastMember.p50)} | ` +
      `${fmt(r.burst.perSecond)} | ${fmt(r.latencyCpuUsPerDelivery)} / ${fmt(r.burst.cpuUsPerDelivery, 3)} | ` +
      `${fmt(r.seqWaitUsInFlight)} / ${fmt(r.seqWaitUsInBursts)} | ` +
      `${fmt(r.connectMs)} | ${r.load.toFixed(1)} | ${r.verify.lost} / ${r.verify.duplicated} / ${r.verify.outOfOrder} |`,
  ),
  '',
  `One in flight: ${ROUNDS} messages after ${WARMUP} warm-up, every delivery a sample. Burst: best of two bursts of ` +
    `${sizes.map((n) => `${burstCount(n)} messages at N = ${n}`).join(', ')}. CPU: the edges' and (when used) Redis's, from /proc; ` +
    'the member process is not counted (10 ms ticks, so small figures are coarse). Seq wait: from a message reaching its edge until ' +
    'its number was known; in a burst, the queue of INCRs in flight included.',
  ...(faulty.length
    ? [
        '',
        '## DELIVERY FAULTS',
        '',
        ...faulty.flatMap((r) => [`- N=${r.n} ${r.topology}:`, ...r.verify.faults.map((f) => `  - ${f}`)]),
      ]
    : []),
  '',
];
// --out: somewhere else than the committed results (the tests use a temporary folder).
const resultsDir = option('--out') ?? join(PROTO_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const name = mutation ? `mutation-${mutation}` : 'latest';
writeFileSync(join(resultsDir, `${name}.md`), lines.join('\n'));
if (!mutation)
  writeFileSync(join(resultsDir, `run-${startedAt.toISOString().replace(/[:.]/g, '-')}.md`), lines.join('\n'));
writeFileSync(
  join(resultsDir, `${name}.json`),
  `${JSON.stringify({ startedAt, redis: redis.version, seq, results }, null, 2)}\n`,
);
console.log(`\nwritten: ${join(resultsDir, name)}.{md,json}`);

if (faulty.length) {
  console.error('\nDELIVERY FAULTS: a message was lost, duplicated or reordered across processes');
  for (const r of faulty) for (const fault of r.verify.faults) console.error(`  N=${r.n} ${r.topology}: ${fault}`);
  process.exit(1);
}
process.exit(0);
