/**
 * The prototype's member process: N lean WebSocket receivers spread round-robin
 * over the edges, and one sender on the first edge, driven by the prototype over
 * Node IPC (the shape of bench/clients.ts, with exact accounting instead of a
 * count of markers).
 *
 * Every message carries its own number (`~M~<number>~`), and each receiver keeps
 * how many times it got each number, so at the end a lost, duplicated or
 * reordered message is named exactly: which one, at which receiver, on which
 * edge. A total that merely adds up (one lost here, one doubled there) cannot
 * pass. The sender keeps each number's send time, so delivery latency is the
 * receiver's clock minus the sender's, one process, one clock.
 */
import { performance } from 'node:perf_hooks';
import { LeanWs } from '../lib/lean-ws.ts';
import { summarize } from '../lib/stats.ts';

const TEXT_CHARS = 40;

interface Receiver {
  ws: LeanWs;
  edge: number;
  /** Times each message number arrived here (saturating at 255). */
  seen: Uint8Array;
  last: number;
  outOfOrder: number;
}

let sender: LeanWs | null = null;
let receivers: Receiver[] = [];
/** Message numbers handed out so far; also the next number. */
let numbered = 0;
let sentAtMs = new Float64Array(0);

// what the current phase is waiting for
let latencySamples: number[] | null = null;
let pending = 0;
let lastAt = 0;
let onProgress: (() => void) | null = null;

function text(number: number): string {
  const head = `~M~${number}~`;
  return head + 'x'.repeat(Math.max(0, TEXT_CHARS - head.length));
}

function arrived(receiver: Receiver, numbers: number[]): void {
  const now = performance.now();
  lastAt = now;
  for (const number of numbers) {
    if (number >= receiver.seen.length) continue;
    if (receiver.seen[number]! < 255) receiver.seen[number]!++;
    if (number < receiver.last) receiver.outOfOrder++;
    receiver.last = number;
    if (latencySamples) latencySamples.push(now - sentAtMs[number]!);
    pending--;
  }
  onProgress?.();
}

function open(port: number, onMarks?: (count: number, times: number[] | null) => void): Promise<LeanWs> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`member on port ${port} not open within 30 s`)), 30_000);
    const ws: LeanWs = new LeanWs(port, '/', onMarks ? { onMarks } : {}, (error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(ws);
    });
    // Every receiver parses each marker's number (the lean client calls it a time).
    ws.timed = true;
  });
}

async function connect(ports: number[], n: number, capacity: number, concurrency: number): Promise<{ ms: number }> {
  const started = performance.now();
  sentAtMs = new Float64Array(capacity);
  numbered = 0;
  sender = await open(ports[0]!);
  const list: Receiver[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const edge = i % ports.length;
      const receiver: Receiver = {
        ws: null as unknown as LeanWs,
        edge,
        seen: new Uint8Array(capacity),
        last: -1,
        outOfOrder: 0,
      };
      receiver.ws = await open(ports[edge]!, (_count, numbers) => arrived(receiver, numbers ?? []));
      list[i] = receiver;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  receivers = list;
  return { ms: performance.now() - started };
}

/** Until every expected delivery came, `timeoutMs` passed, or nothing arrived for `stallMs` (a lost message). */
function waitDelivered(timeoutMs: number, stallMs: number): Promise<'complete' | 'timeout' | 'stalled'> {
  return new Promise((resolve) => {
    const finish = (outcome: 'complete' | 'timeout' | 'stalled'): void => {
      clearTimeout(timer);
      clearInterval(stall);
      onProgress = null;
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const stall = setInterval(() => {
      if (performance.now() - lastAt > stallMs) finish('stalled');
    }, 100);
    onProgress = () => {
      if (pending <= 0) finish('complete');
    };
    onProgress();
  });
}

function nextNumber(): number {
  if (numbered >= sentAtMs.length) throw new Error(`more than ${sentAtMs.length} messages: raise the capacity`);
  return numbered++;
}

/** One message in flight at a time; every receiver must have it before the next is sent. */
async function latency(count: number, warmup: number, roundTimeoutMs: number) {
  const from = sender!;
  const samples: number[] = [];
  const lastPerRound: number[] = [];
  let timeouts = 0;
  for (let k = 0; k < warmup + count; k++) {
    latencySamples = k >= warmup ? samples : null;
    const number = nextNumber();
    pending += receivers.length;
    const t0 = performance.now();
    sentAtMs[number] = t0;
    from.send(text(number));
    lastAt = t0;
    const outcome = await waitDelivered(roundTimeoutMs, roundTimeoutMs);
    if (outcome !== 'complete') {
      timeouts++;
      pending = 0;
    }
    if (k >= warmup) lastPerRound.push(lastAt - t0);
    await new Promise((resolve) => setImmediate(resolve));
  }
  latencySamples = null;
  return {
    messages: count,
    receivers: receivers.length,
    delivery: summarize(samples),
    lastMember: summarize(lastPerRound),
    timeouts,
  };
}

/** `count` messages written at once; throughput is deliveries ÷ time to the last delivery. */
async function burst(count: number, timeoutMs: number) {
  const from = sender!;
  const frames: Buffer[] = [];
  const started = performance.now();
  for (let k = 0; k < count; k++) {
    const number = nextNumber();
    sentAtMs[number] = started;
    frames.push(LeanWs.frame(text(number)));
  }
  pending += count * receivers.length;
  lastAt = started;
  from.socket.cork();
  for (const frame of frames) from.socket.write(frame);
  from.socket.uncork();
  const outcome = await waitDelivered(timeoutMs, 3_000);
  const ms = lastAt - started;
  const deliveries = count * receivers.length - Math.max(0, pending);
  pending = 0;
  return { outcome, messages: count, receivers: receivers.length, deliveries, ms, perSecond: deliveries / (ms / 1000) };
}

/** Every receiver must have had every message exactly once, in order. Names the first fault of each kind. */
function verify() {
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  const faults: string[] = [];
  for (let r = 0; r < receivers.length; r++) {
    const receiver = receivers[r]!;
    for (let number = 0; number < numbered; number++) {
      const times = receiver.seen[number]!;
      if (times === 1) continue;
      if (times === 0) lost++;
      else duplicated += times - 1;
      if (faults.length < 5) {
        faults.push(`receiver ${r} (edge ${receiver.edge}) got message #${number} ${times} times`);
      }
    }
    outOfOrder += receiver.outOfOrder;
    if (receiver.outOfOrder && faults.length < 5) {
      faults.push(`receiver ${r} (edge ${receiver.edge}) saw ${receiver.outOfOrder} messages out of order`);
    }
  }
  return { messages: numbered, receivers: receivers.length, lost, duplicated, outOfOrder, faults };
}

type Command =
  | { id: number; cmd: 'connect'; ports: number[]; n: number; capacity: number; concurrency?: number }
  | { id: number; cmd: 'latency'; count: number; warmup?: number; roundTimeoutMs?: number }
  | { id: number; cmd: 'burst'; count: number; timeoutMs?: number }
  | { id: number; cmd: 'verify' }
  | { id: number; cmd: 'close' };

function reply(value: Record<string, unknown>): void {
  if (!process.send) throw new Error('bench/prototypes/members.ts is forked by shared-fanout.ts');
  process.send(value);
}

process.on('message', async (message: Command) => {
  try {
    let result: Record<string, unknown> = {};
    switch (message.cmd) {
      case 'connect':
        result = await connect(message.ports, message.n, message.capacity, message.concurrency ?? 50);
        break;
      case 'latency':
        result = await latency(message.count, message.warmup ?? 5, message.roundTimeoutMs ?? 10_000);
        break;
      case 'burst':
        result = await burst(message.count, message.timeoutMs ?? 60_000);
        break;
      case 'verify':
        result = verify();
        break;
      case 'close':
        for (const receiver of receivers) receiver.ws.close();
        sender?.close();
        receivers = [];
        sender = null;
        break;
    }
    reply({ id: message.id, ...result });
  } catch (error) {
    reply({ id: message.id, error: (error as Error).stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), 600_000).unref();
