/**
 * The member process: N lean WebSocket members plus one sender, in a process
 * of their own (not the server's), driven by the runner over Node IPC.
 * Send times are absolute (performance.timeOrigin + performance.now(), in µs), so
 * members in a second process (at 10,000 members one process cannot drive them all
 * and the sender: `connect` with `sender: false`, then `listen` and `burstListen`)
 * time the same messages on a clock that agrees; the runner merges the samples.
 * With such peers the sender's round ends when its own members and every peer
 * (`peerRound`, relayed by the runner) have the message: one in flight across both.
 *
 * Latency rounds send a new message each, or (Beacon only, v1.5) an edit or a reaction of one
 * stored message: the update the host fans out carries the edited text's marker, and a reaction's
 * update is recognised by its first bytes (it carries no text), timed from the round's send.
 *
 * Dialects: 'beacon' (hello → welcome, `send` frames), 'raw' (the naive ws and
 * Bun baselines: the message frame is relayed as is), 'socketio' (engine.io v4
 * over a raw WebSocket: "40" to join the namespace, "3" for each "2" ping).
 * With `tls` every member connects over TLS and checks the host's fingerprint
 * before it sends anything (bench/lib/lean-ws.ts), as a Beacon client does.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LeanWs, type LeanTls } from './lib/lean-ws.ts';
import { summarize } from './lib/stats.ts';

type Dialect = 'beacon' | 'raw' | 'socketio';

/** Absolute time in µs (16 digits, exact in a double): two processes' clocks agree on it. */
const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TEXT_CHARS = 40;

let dialect: Dialect = 'raw';
let features: string[] = ['channels', 'members'];
let port = 0;
let tls: LeanTls | null = null;
let sender: LeanWs | null = null;
let receivers: LeanWs[] = [];
let sentCount = 0;
let reactRounds = 0;

// what the current measurement is waiting for
let samples: Float64Array = new Float64Array(0);
/** The send time (µs) of the message each sample timed: the round it belongs to. */
let sampleT: Float64Array = new Float64Array(0);
let sampleCount = 0;
let roundReceived = 0;
let roundTarget = 0;
let roundDone: (() => void) | null = null;
/** The current round's send time, and how many peer processes must report it complete. */
let roundT = 0;
let roundPeers = 0;
let localComplete = false;
const peerRounds = new Map<number, number>();
/** In a peer process (`listen`): deliveries per round, reported when all of this process's members have it. */
let listening: Map<number, number> | null = null;
let listeningFor = 0;
/** When the host's heartbeat pings reached members (absolute ms), while measuring latency. */
let pings: number[] | null = null;
let total = 0;
let expected = 0;
let lastAt = 0;
let allDone: (() => void) | null = null;
let closedDuringRun = 0;

/** What a latency round sends (Beacon only beyond 'message'): a new message, or an update of message `target`. */
export type RoundKind = 'message' | 'edit' | 'react';
/** A reaction's update as the host writes it, which is how a member recognises one (it has no text to mark). */
const REACT_UPDATE = Buffer.from('{"type":"update","update":{"kind":"react"');

function text(t: number): string {
  const head = `~M~${t}~`;
  return head + 'x'.repeat(Math.max(0, TEXT_CHARS - head.length));
}

/** The frame the sender writes; about the size of what Beacon delivers. */
function outgoing(t: number): string {
  const k = ++sentCount;
  const body = text(t);
  if (dialect === 'beacon') return `{"type":"send","clientId":"c${k}","text":"${body}"}`;
  const message = `{"type":"message","message":{"seq":${k},"from":"m_benchsender0","to":null,"text":"${body}","ts":${Date.now()},"clientId":"c${k}"}}`;
  return dialect === 'socketio' ? `42["m",${message}]` : message;
}

/** The frame a latency round sends: a message, or an edit or reaction of `target` (sent at `t` µs). */
function roundFrame(kind: RoundKind, t: number, target: number): string {
  if (kind === 'message') return outgoing(t);
  const k = ++sentCount;
  if (kind === 'edit') return `{"type":"edit","ref":"e${k}","target":${target},"text":"${text(t)}"}`;
  // Each round toggles the sender's 👍 (on, off, on…), so each one is a change the room is told about.
  return `{"type":"react","ref":"e${k}","target":${target},"emoji":"👍","on":${reactRounds++ % 2 === 0}}`;
}

/** Makes room for `more` samples (the phase may run longer than planned: see `minWallMs`). */
function reserveSamples(more: number): void {
  if (sampleCount + more <= samples.length) return;
  const size = Math.max(samples.length * 2, sampleCount + more);
  const grown = new Float64Array(size);
  grown.set(samples.subarray(0, sampleCount));
  const grownT = new Float64Array(size);
  grownT.set(sampleT.subarray(0, sampleCount));
  samples = grown;
  sampleT = grownT;
}

function maybeFinishRound(): void {
  if (roundDone && localComplete && (peerRounds.get(roundT) ?? 0) >= roundPeers) {
    const done = roundDone;
    roundDone = null;
    peerRounds.delete(roundT);
    done();
  }
}

function onMarks(count: number, times: number[] | null): void {
  total += count;
  lastAt = performance.now();
  if (times) {
    const now = nowUs();
    reserveSamples(times.length);
    for (const t of times) {
      sampleT[sampleCount] = t;
      samples[sampleCount++] = (now - t) / 1000;
      if (listening) {
        const seen = (listening.get(t) ?? 0) + 1;
        if (seen >= listeningFor) {
          listening.delete(t);
          send({ event: 'round', t });
        } else listening.set(t, seen);
      }
    }
  }
  if (roundDone) {
    roundReceived += count;
    if (roundReceived >= roundTarget) {
      localComplete = true;
      maybeFinishRound();
    }
  }
  if (allDone && total >= expected) {
    const done = allDone;
    allDone = null;
    done();
  }
}

function openMember(index: number): Promise<LeanWs> {
  return new Promise((resolve, reject) => {
    const path = dialect === 'socketio' ? '/socket.io/?EIO=4&transport=websocket' : '/';
    let settled = false;
    const timer = setTimeout(() => finish(new Error('member did not get ready within 60 s')), 60_000);
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        ws.close();
        reject(error);
      } else {
        ws.handlers.onFrame = dialect === 'socketio' ? socketioPing(ws) : undefined;
        resolve(ws);
      }
    };
    const ws: LeanWs = new LeanWs(
      port,
      path,
      {
        onMarks,
        onPing: () => pings?.push(nowMs()),
        onClose: () => {
          if (settled) closedDuringRun++;
          else finish(new Error('closed while joining'));
        },
        onFrame: (prefix) => {
          const head = prefix.toString('latin1');
          if (dialect === 'beacon' && head.includes('"type":"welcome"')) finish();
          else if (dialect === 'socketio') {
            if (head.startsWith('0')) ws.send('40');
            else if (head.startsWith('40')) finish();
            else if (head === '2') ws.send('3');
          }
        },
      },
      (error) => {
        if (error) return finish(error);
        // Members say what a v1.6 client understands ('members': lean joins), or what a v1.5 one did (beacon-v15).
        if (dialect === 'beacon') {
          ws.send(`{"type":"hello","v":1,"name":"member ${index}","features":${JSON.stringify(features)}}`);
        } else if (dialect === 'raw') finish();
      },
      tls,
    );
  });
}

const socketioPing =
  (ws: LeanWs) =>
  (prefix: Buffer, length: number): void => {
    if (length === 1 && prefix[0] === 0x32) ws.send('3');
  };

async function connectAll(
  n: number,
  concurrency: number,
  withSender: boolean,
  firstIndex: number,
): Promise<{ ms: number; startedAt: number; fileLimit: string }> {
  const startedAt = nowMs();
  const started = performance.now();
  if (withSender) sender = await openMember(0);
  const opened: LeanWs[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      opened[i] = await openMember(firstIndex + i + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  receivers = opened;
  const limits = readFileSync('/proc/self/limits', 'utf8');
  return {
    ms: performance.now() - started,
    startedAt,
    fileLimit: /Max open files\s+(\d+)/.exec(limits)?.[1] ?? '?',
  };
}

function connectedSender(): LeanWs {
  if (!sender) throw new Error('no sender: connect first');
  return sender;
}

/**
 * One frame in flight at a time, `count` rounds after `warmup`. With several `kinds` the rounds
 * take turns (message, edit, react, message, …), so each kind meets the same moments of a shared
 * machine and their figures compare; each kind's deliveries are summarised apart (`byKind`), and
 * the top-level figures are the first kind's.
 * `minWallMs`: measured rounds go on until the phase has lasted that long too, so it spans host
 * heartbeat ticks; at most 10 × count of them (the samples are bounded), spread evenly over the time
 * left once back-to-back rounds would run out before it. `peers`: member processes that must report each round
 * complete (`peerRound`) before the next is sent. The first kind's raw samples (delivery ms and
 * the round's send time), its rounds and the heartbeat pings seen go back in `raw`, for the
 * runner to merge with the peers' (`listenEnd`).
 */
async function latency(options: LatencyOptions) {
  const { count, warmup, roundTimeoutMs, kinds, target, peers, minWallMs } = options;
  const from = connectedSender();
  const live = receivers.filter((r) => r.open);
  for (const r of live) r.timed = true;
  pings = [];
  // The sender is sent updates too (like everyone): they are not deliveries to count.
  const senderHandlers = from.handlers;
  if (kinds.some((kind) => kind !== 'message')) from.handlers = { onClose: senderHandlers.onClose };
  let roundSentUs = 0;
  if (kinds.includes('react')) {
    for (const r of live) {
      r.handlers.onFrame = (prefix) => {
        if (prefix.subarray(0, REACT_UPDATE.length).equals(REACT_UPDATE)) onMarks(1, [roundSentUs]);
      };
    }
  }
  const perKind = new Map(
    kinds.map((kind) => [
      kind,
      {
        samples: new Float64Array(count * live.length) as Float64Array,
        t: new Float64Array(count * live.length) as Float64Array,
        count: 0,
        lastPerRound: [] as number[],
        rounds: [] as { t: number; ms: number; complete: boolean }[],
        missing: 0,
      },
    ]),
  );
  const started = performance.now();
  let measuringSince = 0;
  const planned = (warmup + count) * kinds.length;
  const most = (warmup + count * 10) * kinds.length;
  for (let k = 0; k < most; k++) {
    if (k === warmup * kinds.length) measuringSince = performance.now();
    const leftMs = minWallMs - (performance.now() - measuringSince);
    if (k >= planned && k % kinds.length === 0 && leftMs <= 0) break;
    // Past the planned rounds, the rest are spaced so the last of them still ends the phase on time.
    if (k >= planned && leftMs / (most - k) > 1) await sleep(leftMs / (most - k));
    const kind = kinds[k % kinds.length]!;
    const measured = perKind.get(kind)!;
    const counted = k >= warmup * kinds.length;
    samples = measured.samples;
    sampleT = measured.t;
    sampleCount = counted ? measured.count : 0;
    roundReceived = 0;
    roundTarget = live.length;
    localComplete = live.length === 0;
    roundPeers = peers;
    const t0 = performance.now();
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        roundDone = null;
        peerRounds.delete(roundT);
        resolve(false);
      }, roundTimeoutMs);
      roundDone = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    roundSentUs = nowUs();
    roundT = roundSentUs;
    from.send(roundFrame(kind, roundSentUs, target));
    const complete = await done;
    // The arrays may have grown during the round.
    measured.samples = samples;
    measured.t = sampleT;
    if (counted) {
      measured.count = sampleCount;
      const ms = performance.now() - t0;
      measured.lastPerRound.push(ms);
      measured.rounds.push({ t: roundSentUs, ms, complete });
      if (!complete) measured.missing += roundTarget - roundReceived;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const r of live) {
    r.timed = false;
    r.handlers.onFrame = undefined;
  }
  from.handlers = senderHandlers;
  const wallMs = performance.now() - started;
  const byKind = Object.fromEntries(
    [...perKind].map(([kind, measured]) => [
      kind,
      {
        messages: measured.rounds.length,
        receivers: live.length,
        delivery: summarize(measured.samples.subarray(0, measured.count)),
        lastDelivery: summarize(Float64Array.from(measured.lastPerRound)),
        missing: measured.missing,
        wallMs,
      },
    ]),
  ) as Record<RoundKind, LatencyFigures>;
  const first = perKind.get(kinds[0]!)!;
  const raw: RawLatency = {
    samples: first.samples.slice(0, first.count),
    t: first.t.slice(0, first.count),
    rounds: first.rounds,
    pings: Float64Array.from(pings),
    receivers: live.length,
  };
  pings = null;
  return { ...byKind[kinds[0]!], byKind, raw };
}

/** In a peer process: time every delivery (sent by the other process's sender) until `listenEnd`. */
function listen(): { receivers: number } {
  const live = receivers.filter((r) => r.open);
  for (const r of live) r.timed = true;
  samples = new Float64Array(live.length * 64);
  sampleT = new Float64Array(live.length * 64);
  sampleCount = 0;
  listening = new Map();
  listeningFor = live.length;
  pings = [];
  return { receivers: live.length };
}

function listenEnd(): { raw: RawLatency } {
  const live = receivers.filter((r) => r.open);
  for (const r of receivers) r.timed = false;
  const raw: RawLatency = {
    samples: samples.slice(0, sampleCount),
    t: sampleT.slice(0, sampleCount),
    rounds: [],
    pings: Float64Array.from(pings ?? []),
    receivers: live.length,
  };
  listening = null;
  pings = null;
  sampleCount = 0;
  return { raw };
}

/** What a process measured in a latency phase, for the runner to merge (bench/scenarios/fanout.ts). */
export interface RawLatency {
  /** Delivery time of each timed delivery, ms. */
  samples: Float64Array;
  /** The send time (absolute µs) of the message each sample is of: its round. */
  t: Float64Array;
  /** The sender's measured rounds (empty in a peer): send time, time until every member had it, ms. */
  rounds: { t: number; ms: number; complete: boolean }[];
  /** When heartbeat pings reached this process's members (absolute ms). */
  pings: Float64Array;
  receivers: number;
}

interface LatencyOptions {
  count: number;
  warmup: number;
  roundTimeoutMs: number;
  kinds: RoundKind[];
  target: number;
  peers: number;
  minWallMs: number;
}

interface LatencyFigures {
  messages: number;
  receivers: number;
  delivery: ReturnType<typeof summarize>;
  lastDelivery: ReturnType<typeof summarize>;
  missing: number;
  wallMs: number;
}

/**
 * A bounded burst of `count` messages from the sender; with `sends` false (a peer process), only
 * counts what its members receive of the other process's burst. Times are absolute so the
 * runner can take the burst's end as the last delivery in either process.
 */
async function burst(count: number, timeoutMs: number, stallMs: number, sends: boolean) {
  const from = sends ? connectedSender() : null;
  const live = receivers.filter((r) => r.open);
  closedDuringRun = 0;
  total = 0;
  expected = count * live.length;
  const frames = from ? Array.from({ length: count }, () => LeanWs.frame(outgoing(0))) : [];
  const started = performance.now();
  lastAt = started;
  const finished = new Promise<string>((resolve) => {
    const deadline = setTimeout(() => finish('timeout'), timeoutMs);
    const stall = setInterval(() => {
      if (performance.now() - lastAt > stallMs) finish('stalled');
    }, 250);
    const finish = (why: string): void => {
      clearTimeout(deadline);
      clearInterval(stall);
      allDone = null;
      resolve(why);
    };
    allDone = () => finish('complete');
  });
  // A peer tells the runner it is counting, so the sender starts only then (bench/scenarios/fanout.ts).
  if (!from) send({ event: 'armed' });
  if (from) {
    from.socket.cork();
    for (const frame of frames) from.socket.write(frame);
    from.socket.uncork();
  }
  const outcome = await finished;
  const ms = (outcome === 'complete' ? lastAt : performance.now()) - started;
  const deliveredMs = lastAt - started;
  return {
    outcome,
    messages: count,
    receivers: live.length,
    delivered: total,
    expected,
    ms,
    perSecond: total / (deliveredMs / 1000),
    closedDuringRun,
    startedAt: performance.timeOrigin + started,
    lastAt: performance.timeOrigin + lastAt,
  };
}

/** The runner's commands (bench/lib/proc.ts startClients). */
type Command =
  | {
      id: number;
      cmd: 'connect';
      dialect: Dialect;
      port: number;
      n: number;
      concurrency?: number;
      /** Connect over TLS, pinning this fingerprint (wss://); absent or null: plain ws://. */
      tls?: LeanTls | null;
      /** Beacon: what each hello says it understands (default channels and members, v1.6). */
      features?: string[];
      /** Default true; a peer process (members only) says false. */
      sender?: boolean;
      /** Members are named from this number on, so two processes' names differ. */
      firstIndex?: number;
    }
  | {
      id: number;
      cmd: 'latency';
      count: number;
      warmup?: number;
      roundTimeoutMs?: number;
      /** Default ['message']; 'edit' and 'react' change message `target` (the sender's own); several take turns. */
      kinds?: RoundKind[];
      target?: number;
      peers?: number;
      minWallMs?: number;
    }
  | { id: number; cmd: 'burst'; count: number; timeoutMs?: number; stallMs?: number; sends?: boolean }
  | { id: number; cmd: 'listen' }
  | { id: number; cmd: 'listenEnd' }
  | { id: number; cmd: 'peerRound'; t: number }
  | { id: number; cmd: 'close' };

export type ConnectReply = Awaited<ReturnType<typeof connectAll>>;
export type LatencyReply = Awaited<ReturnType<typeof latency>>;
export type BurstReply = Awaited<ReturnType<typeof burst>>;

function send(value: Record<string, unknown>): void {
  if (!process.send) throw new Error('bench/clients.ts needs an IPC channel: it is forked by the runner');
  process.send(value);
}

process.on('message', async (message: Command) => {
  // A peer process has the current round (relayed by the runner): no reply, it is not a request.
  if (message.cmd === 'peerRound') {
    peerRounds.set(message.t, (peerRounds.get(message.t) ?? 0) + 1);
    maybeFinishRound();
    return;
  }
  try {
    let reply: Record<string, unknown> = {};
    switch (message.cmd) {
      case 'connect':
        dialect = message.dialect;
        port = message.port;
        tls = message.tls ?? null;
        features = message.features ?? ['channels', 'members'];
        reply = await connectAll(message.n, message.concurrency ?? 50, message.sender ?? true, message.firstIndex ?? 0);
        break;
      case 'latency':
        reply = await latency({
          count: message.count,
          warmup: message.warmup ?? 10,
          roundTimeoutMs: message.roundTimeoutMs ?? 10_000,
          kinds: message.kinds ?? ['message'],
          target: message.target ?? 0,
          peers: message.peers ?? 0,
          minWallMs: message.minWallMs ?? 0,
        });
        break;
      case 'burst':
        reply = await burst(
          message.count,
          message.timeoutMs ?? 60_000,
          message.stallMs ?? 10_000,
          message.sends ?? true,
        );
        break;
      case 'listen':
        reply = listen();
        break;
      case 'listenEnd':
        reply = listenEnd();
        break;
      case 'close':
        for (const r of receivers) r.close();
        sender?.close();
        receivers = [];
        sender = null;
        break;
      default:
        throw new Error(`unknown command ${String((message as { cmd: unknown }).cmd)}`);
    }
    send({ id: message.id, ...reply });
  } catch (error) {
    send({ id: message.id, error: (error as Error).stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), Number(process.env.BENCH_CLIENTS_MAX_LIFE_MS ?? 900_000)).unref();
