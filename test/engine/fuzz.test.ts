/**
 * Fuzzing the host over real sockets: tens of thousands of hostile frames
 * (seeded, so a failure can be replayed) at a real RoomServer, and afterwards
 * the host must be alive, answer a member, and hold the memory it held before
 * (V8 heap after a full collection: RSS keeps what the allocator once grew to).
 *   BEACON_FUZZ_FRAMES=200000 BEACON_FUZZ_SEED=7 npx vitest run test/engine/fuzz.test.ts
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeClientFrame } from '../../src/shared/protocol.ts';
import { cleanup, joined, next, startRoom } from '../helpers/room.ts';

afterAll(cleanup);

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const FRAMES = Number(process.env.BEACON_FUZZ_FRAMES ?? 20_000);
const SEED = Number(process.env.BEACON_FUZZ_SEED ?? 1);
const FRAMES_PER_CONNECTION = 12;
/** Close codes the host documents; 1006 (no close frame) or 1011 (internal failure) would be a finding. */
const DOCUMENTED = new Set([1000, 1007, 1008, 1009, 1013, 4001, 4002, 4003, 4004, 4007]);

/** mulberry32: small, seeded, good enough to pick frames. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEMPLATES: Record<string, unknown>[] = [
  { type: 'hello', v: 1, name: 'fuzz', code: '1234' },
  { type: 'send', clientId: 'c1', text: 'hi' },
  { type: 'send', clientId: 'c2', to: 'm_nobody', text: 'hi' },
  { type: 'typing', to: null },
  { type: 'status', status: 'away' },
  { type: 'history', before: 10, limit: 50 },
  { type: 'history', after: 0, conversation: 'room' },
  { type: 'ping', id: 1, t: 0 },
];

function hostileValue(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * (depth > 4 ? 7 : 10));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return [0, -1, 1e308, -0, 2 ** 53 + 1, 1.5, Number.MAX_SAFE_INTEGER][Math.floor(rnd() * 7)];
    case 3:
      return String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 0xffff)));
    case 4:
      return 'x'.repeat(Math.floor(rnd() * 70_000));
    case 5:
      return ['\u202Eecila', '\u0000', '\uD800', '__proto__', 'constructor', '🙂'.repeat(30)][Math.floor(rnd() * 6)];
    case 6:
      return '';
    case 7:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => hostileValue(rnd, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 4) }, () => [
          ['type', 'v', 'text', 'to', '__proto__', 'resume', 'limit'][Math.floor(rnd() * 7)]!,
          hostileValue(rnd, depth + 1),
        ]),
      );
  }
}

/** One hostile frame: text (maybe not JSON, maybe not even UTF-8) or binary. */
function hostileFrame(rnd: () => number): { data: string | Buffer; binary: boolean } {
  // Invalid UTF-8 (4) and oversize frames (6) end the connection at once: rarer, so most frames reach the decoder.
  const roll = rnd();
  const kind = roll < 0.03 ? 4 : roll < 0.06 ? 6 : [0, 0, 1, 2, 2, 3, 5, 7][Math.floor(rnd() * 8)]!;
  const template = TEMPLATES[Math.floor(rnd() * TEMPLATES.length)]!;
  switch (kind) {
    case 0: {
      const keys = Object.keys(template);
      const key = keys[Math.floor(rnd() * keys.length)]!;
      return { data: JSON.stringify({ ...template, [key]: hostileValue(rnd) }), binary: false };
    }
    case 1: {
      const depth = 10 + Math.floor(rnd() * 6_000);
      const open = rnd() < 0.5 ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return { data: `{"type":${open.repeat(depth)}1${close.repeat(depth)}}`, binary: false };
    }
    case 2:
      return { data: JSON.stringify(hostileValue(rnd)), binary: false };
    case 3: {
      const text = JSON.stringify(template);
      return { data: text.slice(0, Math.floor(rnd() * text.length)), binary: false };
    }
    case 4:
      return {
        data: Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => rnd() * 256)),
        binary: false,
      };
    case 5:
      return { data: Buffer.from([1, 2, 3]), binary: true };
    case 6:
      return { data: JSON.stringify({ ...template, extra: 'y'.repeat(70_000) }), binary: false };
    default:
      return { data: JSON.stringify(template), binary: false };
  }
}

/** Heap in use after a full collection, in MB. */
async function heapMB(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

interface Outcome {
  bad: number;
  errors: number;
  close: number | null;
}

/** One connection: maybe join, send a run of hostile frames, then wait for the host to answer or close. */
function fuzzConnection(port: number, rnd: () => number): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const outcome: Outcome = { bad: 0, errors: 0, close: null };
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      ws.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(finish, 5_000);
    ws.on('error', () => {});
    ws.on('close', (code) => {
      if (finished) return;
      outcome.close = code;
      finish();
    });
    ws.on('message', (data) => {
      const text = data.toString();
      outcome.errors += text.split('"type":"error"').length - 1;
      if (text.includes('"type":"pong"') && text.includes('"id":424242')) finish();
    });
    ws.on('open', () => {
      if (rnd() < 0.7)
        ws.send(JSON.stringify({ type: 'hello', v: 1, name: `fuzz ${Math.floor(rnd() * 1e6)}`, code: '1234' }));
      for (let i = 0; i < FRAMES_PER_CONNECTION; i++) {
        const frame = hostileFrame(rnd);
        const valid = !frame.binary && typeof frame.data === 'string' && decodeClientFrame(frame.data).ok;
        if (!valid) outcome.bad++;
        ws.send(frame.data, { binary: frame.binary });
      }
      // A marker: its pong means every frame before it was handled.
      ws.send(JSON.stringify({ type: 'ping', id: 424242, t: 0 }));
    });
  });
}

describe('fuzzing the host', () => {
  it(`survives ${FRAMES} hostile frames with every bad one answered, and holds only bounded memory afterwards`, async () => {
    // Departed fuzz members are forgotten quickly, so what is left at the end is what the host kept.
    const server = await startRoom({ limits: { reconnectGraceMs: 50 } });
    const port = server.port;
    const ann = await joined(port, 'Ann');
    const bob = await joined(port, 'Bob');
    const rnd = random(SEED);
    // Warm up with a round of ordinary members so the baseline includes what a normal room allocates.
    for (let i = 0; i < 20; i++) await fuzzConnection(port, random(SEED + 1000 + i));
    const connections = Math.ceil(FRAMES / FRAMES_PER_CONNECTION);
    const closes = new Map<number | null, number>();
    let unanswered = 0;
    const PARALLEL = 8;
    const fuzzRound = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += PARALLEL) {
        const outcomes = await Promise.all(Array.from({ length: PARALLEL }, () => fuzzConnection(port, rnd)));
        for (const outcome of outcomes) {
          closes.set(outcome.close, (closes.get(outcome.close) ?? 0) + 1);
          // Open to the end: each bad frame had its error frame. Closed: the close code is the answer.
          if (outcome.close === null && outcome.errors < outcome.bad) unanswered++;
          if (outcome.close !== null) expect(DOCUMENTED, `close ${outcome.close}`).toContain(outcome.close);
        }
      }
    };
    const settled = async (): Promise<number> => {
      for (let i = 0; i < 200 && server.members().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      return heapMB();
    };
    const before = await settled();
    await fuzzRound(connections);
    const after = await settled();
    console.log(
      `fuzz: ${connections * FRAMES_PER_CONNECTION} frames over ${connections} connections (seed ${SEED}); ` +
        `closes ${JSON.stringify(Object.fromEntries(closes))}; host heap after GC ${before.toFixed(1)} → ${after.toFixed(1)} MB`,
    );
    expect(unanswered).toBe(0);
    // What may stay: the name reservations of the fuzz identities (at most 20,000, a few hundred bytes each, pruned after a day).
    expect(after - before).toBeLessThan(16);
    // And the room still works for its members (newcomers may have to wait: the fuzz spends the room's budget of wrong codes).
    const got = next(bob, 'message');
    ann.send('after the storm', null, 'room');
    expect((await got)[0].text).toBe('after the storm');
  }, 300_000);
});
