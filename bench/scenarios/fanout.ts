/**
 * Scenarios 1 and 2: fan-out. For each N and each server (Beacon's real host,
 * plain and over TLS, and the three baselines, interleaved so they share the
 * machine's state), in a fresh server process:
 *   1. connect N idle receivers + 1 sender from the member process → memory per idle member
 *   2. one message in flight at a time → delivery latency (p50/p99/max); for Beacon, then a
 *      message, an edit and a reaction of a stored message in turn, one in flight (v1.5: updates
 *      take the messages' fan-out path, and must reach every member as fast)
 *   3. a bounded burst → delivered messages per second over all members
 * with the server's CPU (process.cpuUsage inside it) and peak RSS (VmHWM).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BENCH_DIR,
  BUN_PATH,
  bunAvailable,
  procCpuMs,
  procStatus,
  replyNumber,
  resetPeak,
  type ServerHandle,
  sleep,
  startClients,
  startServer,
  waitForQuiet,
} from '../lib/proc.ts';
import type { BurstReply, ConnectReply, LatencyReply } from '../clients.ts';
import type { ScenarioOptions, ScenarioResult, Table } from '../lib/scenario.ts';
import { fmt, kb, mb, type Summary } from '../lib/stats.ts';

interface ServerSpec {
  name: string;
  dialect: 'beacon' | 'raw' | 'socketio';
  /** Members connect over TLS (wss://) and pin the host's fingerprint. */
  tls?: boolean;
  start(dataDir: string): Promise<ServerHandle>;
}

const node = process.execPath;
const NODE_FLAGS = ['--expose-gc'];

export const SERVERS: ServerSpec[] = [
  // 'beacon' is the host without encryption (`--insecure`, plain ws://), as in every figure before TLS;
  // 'beacon-tls' the same host as it runs by default: TLS on the same port, members pinning its fingerprint.
  {
    name: 'beacon',
    dialect: 'beacon',
    start: (dataDir) =>
      startServer('beacon', node, [...NODE_FLAGS, join(BENCH_DIR, 'servers/beacon-host.ts'), dataDir]),
  },
  {
    name: 'beacon-tls',
    dialect: 'beacon',
    tls: true,
    start: (dataDir) =>
      startServer('beacon-tls', node, [...NODE_FLAGS, join(BENCH_DIR, 'servers/beacon-host.ts'), dataDir, '--tls']),
  },
  {
    name: 'naive-ws',
    dialect: 'raw',
    start: () => startServer('naive-ws', node, [...NODE_FLAGS, join(BENCH_DIR, 'baselines/naive-ws.ts')]),
  },
  {
    name: 'socket.io',
    dialect: 'socketio',
    start: () => startServer('socket.io', node, [...NODE_FLAGS, join(BENCH_DIR, 'baselines/socketio.ts')]),
  },
  {
    name: 'bun',
    dialect: 'raw',
    start: () => startServer('bun', BUN_PATH, [join(BENCH_DIR, 'baselines/bun-publish.ts')]),
  },
];

interface Run {
  server: string;
  n: number;
  ok: boolean;
  error?: string;
  connectMs?: number;
  baseRss?: number;
  idleRss?: number;
  bytesPerIdleMember?: number;
  /** V8 heap + external per idle member (Node servers only). */
  heapPerIdleMember?: number;
  setupPeakRss?: number;
  peakRss?: number;
  /** Share of the whole machine's CPU that was busy just before the run (others' jobs show up here). */
  machineBusyBefore?: number;
  bursts?: NonNullable<Run['burst']>[];
  latency?: {
    delivery: Summary;
    lastDelivery: Summary;
    missing: number;
    messages: number;
    wallMs: number;
    cpuMs: number;
    memberCpuMs: number;
  };
  /** Beacon only: a message, an edit and a reaction of a stored message in turn, one in flight (same members, same run). */
  updates?: Partial<Record<'message' | 'edit' | 'react', NonNullable<Run['latency']>>>;
  burst?: {
    outcome: string;
    messages: number;
    delivered: number;
    expected: number;
    ms: number;
    perSecond: number;
    closedDuringRun: number;
    cpuMs: number;
    memberCpuMs: number;
  };
}

/** What the members must pin to reach `server` over TLS: the fingerprint its certificate has. */
export async function pinFor(server: ServerHandle): Promise<{ fingerprint: string }> {
  const { fingerprint } = await server.request('fingerprint');
  if (typeof fingerprint !== 'string' || !/^[0-9a-f]{32}$/.test(fingerprint)) {
    throw new Error(`${server.kind} has no certificate fingerprint to pin (got ${JSON.stringify(fingerprint)})`);
  }
  return { fingerprint };
}

const cpuMs = async (server: ServerHandle): Promise<number> => {
  const s = await server.request('stats');
  return (replyNumber(s, 'cpuUserUs') + replyNumber(s, 'cpuSystemUs')) / 1000;
};

async function runOne(spec: ServerSpec, n: number, tiny: boolean, log: (line: string) => void): Promise<Run> {
  const run: Run = { server: spec.name, n, ok: false };
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-fanout-'));
  let server: ServerHandle | null = null;
  run.machineBusyBefore = await waitForQuiet(tiny ? 0 : 10_000);
  const clients = await startClients();
  try {
    server = await spec.start(dataDir);
    const host = server;
    await sleep(200);
    await server.request('gc');
    await sleep(200);
    run.baseRss = procStatus(server.pid).rss;
    const heapBefore = spec.name === 'bun' ? null : await server.request('memory');
    const tls = spec.tls ? await pinFor(server) : null;
    const profile = process.env.BENCH_PROFILE_DIR && spec.dialect === 'beacon';
    const profileStart = async (): Promise<void> => {
      if (profile) await host.request('profile-start');
    };
    const profileStop = async (phase: string): Promise<void> => {
      if (!profile) return;
      const { file } = await host.request('profile-stop', 30_000, { name: `${spec.name}-N${n}-${phase}` });
      log(`  profile: ${String(file)}`);
    };
    await profileStart();
    const connected = await clients.call<ConnectReply>(
      { cmd: 'connect', dialect: spec.dialect, port: server.port, n, concurrency: 50, tls },
      tiny ? 30_000 : 240_000,
    );
    run.connectMs = connected.ms;
    await profileStop('connect');
    await sleep(300);
    await server.request('gc');
    await sleep(500);
    run.idleRss = procStatus(server.pid).rss;
    if (heapBefore) {
      const heapAfter = await server.request('memory');
      run.heapPerIdleMember =
        (replyNumber(heapAfter, 'heapUsed') +
          replyNumber(heapAfter, 'external') -
          replyNumber(heapBefore, 'heapUsed') -
          replyNumber(heapBefore, 'external')) /
        (n + 1);
    }
    run.bytesPerIdleMember = (run.idleRss - run.baseRss) / (n + 1);
    run.setupPeakRss = procStatus(server.pid).hwm;
    if (!resetPeak(server.pid)) log('  (could not reset VmHWM: peak RSS includes the connection phase)');

    const latencyCount = tiny ? 20 : n <= 100 ? 300 : n <= 500 ? 150 : 60;
    await profileStart();
    const cpu0 = await cpuMs(server);
    const clientCpu0 = procCpuMs(clients.pid);
    const lat = await clients.call<LatencyReply>(
      { cmd: 'latency', count: latencyCount, warmup: tiny ? 3 : 20, roundTimeoutMs: 10_000 },
      tiny ? 30_000 : 120_000,
    );
    run.latency = { ...lat, cpuMs: (await cpuMs(server)) - cpu0, memberCpuMs: procCpuMs(clients.pid) - clientCpu0 };
    await profileStop('latency');
    if (spec.dialect === 'beacon') {
      // v1.5: a message, an edit and a reaction in turn, one in flight, on the same members (so the
      // three meet the same moments of a shared machine). The sender's last message is the one
      // its edits and reactions change. Host CPU is for the whole phase, shared by the three.
      const target = replyNumber(await server.request('stats'), 'lastSeq');
      const cpu = await cpuMs(server);
      const clientCpu = procCpuMs(clients.pid);
      const turns = await clients.call<LatencyReply>(
        {
          cmd: 'latency',
          count: latencyCount,
          warmup: tiny ? 3 : 20,
          roundTimeoutMs: 10_000,
          kinds: ['message', 'edit', 'react'],
          target,
        },
        tiny ? 60_000 : 360_000,
      );
      const phaseCpu = (await cpuMs(server)) - cpu;
      const phaseMemberCpu = procCpuMs(clients.pid) - clientCpu;
      run.updates = {};
      for (const kind of ['message', 'edit', 'react'] as const) {
        run.updates[kind] = { ...turns.byKind[kind], cpuMs: phaseCpu / 3, memberCpuMs: phaseMemberCpu / 3 };
      }
    }
    // Bounded burst: about a million deliveries at full size.
    const burstCount = tiny ? 200 : n <= 100 ? 5_000 : n <= 500 ? 2_000 : 500;
    await clients.call({ cmd: 'burst', count: Math.ceil(burstCount / 10), timeoutMs: 30_000, stallMs: 5_000 }, 40_000);
    await sleep(200);
    await profileStart();
    // Best of two bursts: the machine is shared, and one bad moment should not decide the figure.
    const bursts: NonNullable<Run['burst']>[] = [];
    for (let rep = 0; rep < (tiny ? 1 : 2); rep++) {
      const cpu1 = await cpuMs(server);
      const clientCpu1 = procCpuMs(clients.pid);
      const burst = await clients.call<BurstReply>(
        { cmd: 'burst', count: burstCount, timeoutMs: tiny ? 15_000 : 90_000, stallMs: 10_000 },
        tiny ? 20_000 : 100_000,
      );
      bursts.push({ ...burst, cpuMs: (await cpuMs(server)) - cpu1, memberCpuMs: procCpuMs(clients.pid) - clientCpu1 });
      await sleep(200);
    }
    run.bursts = bursts;
    run.burst = bursts.reduce((best, b) => (b.perSecond > best.perSecond ? b : best));
    await profileStop('burst');
    run.peakRss = procStatus(server.pid).hwm;
    run.ok = true;
    log(
      `  ${spec.name.padEnd(10)} N=${String(n).padEnd(5)} connect ${fmt(run.connectMs, 0)} ms · ` +
        `idle ${kb(run.bytesPerIdleMember)} KB/member (heap ${run.heapPerIdleMember === undefined ? '–' : kb(run.heapPerIdleMember)}) · p50 ${fmt(run.latency.delivery.p50)} p99 ${fmt(run.latency.delivery.p99)} ms · ` +
        (run.updates?.edit && run.updates.react
          ? `edit p50 ${fmt(run.updates.edit.delivery.p50)} react p50 ${fmt(run.updates.react.delivery.p50)} ms · `
          : '') +
        `latency wall ${fmt(run.latency.wallMs, 0)} ms (host CPU ${fmt(run.latency.cpuMs, 0)}, members CPU ${fmt(run.latency.memberCpuMs, 0)}) · burst ${fmt(run.burst.perSecond, 0)} msg/s (host CPU ${fmt(run.burst.cpuMs, 0)} ms, members ${fmt(run.burst.memberCpuMs, 0)} ms) (${run.burst.outcome}, ${run.burst.delivered}/${run.burst.expected}) · peak ${mb(run.peakRss)} MB`,
    );
  } catch (error) {
    run.error = (error as Error).message + (server ? `\n${server.stderr().trim()}` : '');
    log(`  ${spec.name} N=${n}: FAILED: ${run.error}`);
  } finally {
    try {
      await clients.call({ cmd: 'close' }, 10_000);
    } catch {
      // stopping anyway
    }
    await clients.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return run;
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? '–'
    : `${(a / b).toFixed(2)}×`;

export async function fanout(options: ScenarioOptions): Promise<ScenarioResult> {
  const sizes = options.sizes ?? (options.tiny ? [20] : [100, 500, 2000]);
  const notes: string[] = [];
  const bun = bunAvailable();
  let specs = SERVERS.filter((s) => !options.servers || options.servers.includes(s.name));
  if (!bun.ok) {
    const line = `Bun baseline SKIPPED: ${bun.reason}`;
    options.log(line);
    notes.push(line);
    specs = specs.filter((s) => s.name !== 'bun');
  } else notes.push(`Bun ${bun.version} (bun-publish baseline)`);
  notes.push(
    'Beacon host limits: defaults except messagesPerSecond and messageBurst, raised to 1e9 so one sender can burst (maxBufferedBytes stays 4 MiB).',
  );
  if (specs.some((s) => s.tls)) {
    notes.push(
      "beacon = Beacon's host without encryption (insecure, plain ws://); beacon-tls = the same host with TLS, its default (wss://, ECDSA P-256 certificate; members skip CA checks and pin its fingerprint before sending anything). Members decrypt in the member process, which shares the machine.",
    );
  }

  const runs: Run[] = [];
  for (const n of sizes) {
    for (const spec of specs) runs.push(await runOne(spec, n, options.tiny, options.log));
  }

  const find = (server: string, n: number): Run | undefined =>
    runs.find((r) => r.server === server && r.n === n && r.ok);
  const tables: Table[] = [];
  tables.push({
    title: 'Fan-out: one message in flight (delivery latency to each member, ms) and burst throughput',
    header: [
      'server',
      'N',
      'p50 ms',
      'p99 ms',
      'max ms',
      'last-member p50',
      'burst msg/s',
      'burst CPU %',
      'connect all ms',
      'peak RSS MB',
      'idle KB/member',
      'heap KB/member',
      'busy before',
      'status',
    ],
    rows: runs.map(({ latency, burst, peakRss, bytesPerIdleMember, ...r }) =>
      r.ok && latency && burst && peakRss !== undefined && bytesPerIdleMember !== undefined
        ? [
            r.server,
            String(r.n),
            fmt(latency.delivery.p50),
            fmt(latency.delivery.p99),
            fmt(latency.delivery.max),
            fmt(latency.lastDelivery.p50),
            fmt(burst.perSecond, 0),
            fmt((burst.cpuMs / burst.ms) * 100, 0),
            fmt(r.connectMs, 0),
            mb(peakRss),
            kb(bytesPerIdleMember),
            r.heapPerIdleMember === undefined ? '–' : kb(r.heapPerIdleMember),
            `${Math.round((r.machineBusyBefore ?? 0) * 100)}%`,
            burst.outcome === 'complete' && latency.missing === 0
              ? 'ok'
              : `${burst.outcome}; ${burst.delivered}/${burst.expected}; lat missing ${latency.missing}; closed ${burst.closedDuringRun}`,
          ]
        : [
            r.server,
            String(r.n),
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            '–',
            `FAILED: ${r.error?.split('\n')[0]}`,
          ],
    ),
  });
  const updateRows = runs.flatMap((r) => {
    const message = r.updates?.message;
    if (!r.ok || !message) return [];
    return (['message', 'edit', 'react'] as const).flatMap((kind) => {
      const lat = r.updates?.[kind];
      return lat
        ? [
            [
              r.server,
              String(r.n),
              kind,
              fmt(lat.delivery.p50),
              fmt(lat.delivery.p99),
              fmt(lat.delivery.max),
              fmt(lat.lastDelivery.p50),
              ratio(lat.delivery.p50, message.delivery.p50),
              ratio(lat.delivery.p99, message.delivery.p99),
              ratio(lat.lastDelivery.p50, message.lastDelivery.p50),
              lat.missing === 0 ? 'ok' : `missing ${lat.missing}`,
            ],
          ]
        : [];
    });
  });
  if (updateRows.length > 0) {
    tables.push({
      title:
        'Fan-out of edits and reactions (v1.5): a message, an edit and a reaction in turn, one in flight, same members (delivery latency to each member, ms)',
      header: [
        'server',
        'N',
        'in flight',
        'p50 ms',
        'p99 ms',
        'max ms',
        'last-member p50',
        'p50 ÷ message',
        'p99 ÷ message',
        'last-member ÷ message',
        'status',
      ],
      rows: updateRows,
    });
  }
  const beacons = specs.filter((s) => s.dialect === 'beacon').map((s) => s.name);
  const baselines = specs.filter((s) => s.dialect !== 'beacon').map((s) => s.name);
  if (beacons.length > 0 && baselines.length > 0) {
    const rows: string[][] = [];
    for (const n of sizes) {
      for (const name of beacons) {
        const b = find(name, n);
        for (const base of baselines) {
          const o = find(base, n);
          rows.push([
            `${name} ÷ ${base}`,
            String(n),
            ratio(b?.burst?.perSecond, o?.burst?.perSecond),
            ratio(b?.latency?.delivery.p50, o?.latency?.delivery.p50),
            ratio(b?.latency?.delivery.p99, o?.latency?.delivery.p99),
            ratio(b?.peakRss, o?.peakRss),
            ratio(b?.bytesPerIdleMember, o?.bytesPerIdleMember),
          ]);
        }
      }
    }
    tables.push({
      title: 'Fan-out ratios (Beacon ÷ baseline; throughput: higher is better; latency and memory: lower is better)',
      header: ['ratio', 'N', 'burst msg/s', 'p50', 'p99', 'peak RSS', 'idle mem/member'],
      rows,
    });
  }
  if (beacons.includes('beacon') && beacons.includes('beacon-tls')) {
    // The cost of TLS: the same host, the same members, the same run; only the transport differs.
    // CPU time per delivery moves far less than wall-clock figures when other jobs share the machine.
    const perDelivery = (r: Run | undefined): number | undefined =>
      r?.burst && r.burst.delivered > 0 ? r.burst.cpuMs / r.burst.delivered : undefined;
    const perInFlight = (r: Run | undefined): number | undefined =>
      r?.latency && r.latency.messages > 0 ? r.latency.cpuMs / r.latency.messages : undefined;
    tables.push({
      title: 'The cost of TLS (beacon-tls ÷ beacon, same run; throughput: higher is better; the rest: lower is better)',
      header: [
        'N',
        'burst msg/s',
        'burst host CPU per delivery',
        'p50',
        'p99',
        'one-in-flight host CPU per message',
        'last-member p50',
        'connect all',
        'peak RSS',
        'idle mem/member',
      ],
      rows: sizes.map((n) => {
        const plain = find('beacon', n);
        const tls = find('beacon-tls', n);
        return [
          String(n),
          ratio(tls?.burst?.perSecond, plain?.burst?.perSecond),
          ratio(perDelivery(tls), perDelivery(plain)),
          ratio(tls?.latency?.delivery.p50, plain?.latency?.delivery.p50),
          ratio(tls?.latency?.delivery.p99, plain?.latency?.delivery.p99),
          ratio(perInFlight(tls), perInFlight(plain)),
          ratio(tls?.latency?.lastDelivery.p50, plain?.latency?.lastDelivery.p50),
          ratio(tls?.connectMs, plain?.connectMs),
          ratio(tls?.peakRss, plain?.peakRss),
          ratio(tls?.bytesPerIdleMember, plain?.bytesPerIdleMember),
        ];
      }),
    });
  }
  return { scenario: 'fanout', tables, notes, data: { sizes, runs, startedAt: performance.timeOrigin } };
}
