/**
 * The member process: N lean WebSocket members plus one sender, in a process
 * of their own (not the server's), driven by the runner over Node IPC.
 * Sender and receivers share this process's clock, so a send time carried in
 * the message text gives the delivery latency directly.
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
import { performance } from 'node:perf_hooks';
import { LeanWs, type LeanTls } from './lib/lean-ws.ts';
import { summarize } from './lib/stats.ts';

type Dialect = 'beacon' | 'raw' | 'socketio';

const nowUs = (): number => Math.round(performance.now() * 1000);
const TEXT_CHARS = 40;

let dialect: Dialect = 'raw';
let port = 0;
let tls: LeanTls | null = null;
let sender: LeanWs | null = null;
let receivers: LeanWs[] = [];
let sentCount = 0;
let reactRounds = 0;

// what the current measurement is waiting for
let samples: Float64Array = new Float64Array(0);
let sampleCount = 0;
let roundReceived = 0;
let roundTarget = 0;
let roundDone: (() => void) | null = null;
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

function onMarks(count: number, times: number[] | null): void {
  total += count;
  lastAt = performance.now();
  if (times) {
    const now = nowUs();
    for (const t of times) if (sampleCount < samples.length) samples[sampleCount++] = (now - t) / 1000;
  }
  if (roundDone) {
    roundReceived += count;
    if (roundReceived >= roundTarget) {
      const done = roundDone;
      roundDone = null;
      done();
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
        // Members say they understand channels, as every v1.5 client does.
        if (dialect === 'beacon') ws.send(`{"type":"hello","v":1,"name":"member ${index}","features":["channels"]}`);
        else if (dialect === 'raw') finish();
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

async function connectAll(n: number, concurrency: number): Promise<{ ms: number }> {
  const started = performance.now();
  sender = await openMember(0);
  const opened: LeanWs[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      opened[i] = await openMember(i + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  receivers = opened;
  return { ms: performance.now() - started };
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
 */
async function latency(count: number, warmup: number, roundTimeoutMs: number, kinds: RoundKind[], target: number) {
  const from = connectedSender();
  const live = receivers.filter((r) => r.open);
  for (const r of live) r.timed = true;
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
      { samples: new Float64Array(count * live.length), count: 0, lastPerRound: [] as number[], missing: 0, rounds: 0 },
    ]),
  );
  const started = performance.now();
  for (let k = 0; k < (warmup + count) * kinds.length; k++) {
    const kind = kinds[k % kinds.length]!;
    const measured = perKind.get(kind)!;
    const counted = k >= warmup * kinds.length;
    samples = measured.samples;
    sampleCount = counted ? measured.count : 0;
    roundReceived = 0;
    roundTarget = live.length;
    const t0 = performance.now();
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        roundDone = null;
        resolve(false);
      }, roundTimeoutMs);
      roundDone = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    roundSentUs = nowUs();
    from.send(roundFrame(kind, roundSentUs, target));
    const complete = await done;
    if (counted) {
      measured.count = sampleCount;
      measured.rounds++;
      measured.lastPerRound.push(performance.now() - t0);
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
        messages: measured.rounds,
        receivers: live.length,
        delivery: summarize(measured.samples.subarray(0, measured.count)),
        lastDelivery: summarize(Float64Array.from(measured.lastPerRound)),
        missing: measured.missing,
        wallMs,
      },
    ]),
  ) as Record<RoundKind, LatencyFigures>;
  return { ...byKind[kinds[0]!], byKind };
}

interface LatencyFigures {
  messages: number;
  receivers: number;
  delivery: ReturnType<typeof summarize>;
  lastDelivery: ReturnType<typeof summarize>;
  missing: number;
  wallMs: number;
}

async function burst(count: number, timeoutMs: number, stallMs: number) {
  const from = connectedSender();
  const live = receivers.filter((r) => r.open);
  closedDuringRun = 0;
  total = 0;
  expected = count * live.length;
  const frames = Array.from({ length: count }, () => LeanWs.frame(outgoing(0)));
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
  from.socket.cork();
  for (const frame of frames) from.socket.write(frame);
  from.socket.uncork();
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
    }
  | { id: number; cmd: 'burst'; count: number; timeoutMs?: number; stallMs?: number }
  | { id: number; cmd: 'close' };

export type ConnectReply = Awaited<ReturnType<typeof connectAll>>;
export type LatencyReply = Awaited<ReturnType<typeof latency>>;
export type BurstReply = Awaited<ReturnType<typeof burst>>;

function send(value: Record<string, unknown>): void {
  if (!process.send) throw new Error('bench/clients.ts needs an IPC channel: it is forked by the runner');
  process.send(value);
}

process.on('message', async (message: Command) => {
  try {
    let reply: Record<string, unknown> = {};
    switch (message.cmd) {
      case 'connect':
        dialect = message.dialect;
        port = message.port;
        tls = message.tls ?? null;
        reply = await connectAll(message.n, message.concurrency ?? 50);
        break;
      case 'latency':
        reply = await latency(
          message.count,
          message.warmup ?? 10,
          message.roundTimeoutMs ?? 10_000,
          message.kinds ?? ['message'],
          message.target ?? 0,
        );
        break;
      case 'burst':
        reply = await burst(message.count, message.timeoutMs ?? 60_000, message.stallMs ?? 10_000);
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
