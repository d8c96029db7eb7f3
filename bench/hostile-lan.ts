/**
 * What one attacking machine on the LAN can do to a host with default limits,
 * measured against a headless host in a child process. Loopback only (other
 * 127.0.0.x addresses stand for other machines); bounded in time (≈ 3 min).
 *
 *   node bench/hostile-lan.ts            # or: npm run bench:hostile
 *
 * 1. Memory: plant large direct messages between two of the attacker's own
 *    identities, then resume as many connections as the host lets one address
 *    open, stop reading, and ask for every page of history. Reports the host's
 *    RSS before and at its peak, and a bystander's ack time meanwhile.
 * 2. Guessing: wrong join codes answered per minute from 1 address and from 250.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';

const CODE = '20261123';
const data = mkdtempSync(join(tmpdir(), 'beacon-hostile-'));
const host = spawn(
  process.execPath,
  ['src/cli/host.ts', '--port', '0', '--bind', '127.0.0.1', '--code', CODE, '--data', data, '--web', data],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.on('exit', () => {
  host.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
});
setTimeout(() => {
  console.error('hostile-lan: over its 5-minute budget; stopping');
  process.exit(2);
}, 5 * 60_000).unref();

// The host prints its addresses: wss:// (https:// in an invite) by default, ws:// if started with --insecure.
const { port, secure } = await new Promise<{ port: number; secure: boolean }>((resolve) => {
  createInterface({ input: host.stdout }).on('line', (line) => {
    const match = /\b(wss?|https?):\/\/127\.0\.0\.1:(\d+)/.exec(line);
    if (match) resolve({ port: Number(match[2]), secure: match[1]!.length > 2 && match[1] !== 'http' });
  });
});
const rssMB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${host.pid}/status`, 'utf8'))![1]) / 1024;

interface Peer {
  ws: WebSocket;
  frames: { type: string; [key: string]: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  pause: () => void;
}

function peer(localAddress = '127.0.0.1'): Promise<Peer> {
  let socket: ReturnType<typeof connect> | null = null;
  // The attacker needs no pin: it talks to the host it means to hurt, over TLS like everyone else.
  const ws = new WebSocket(`${secure ? 'wss' : 'ws'}://127.0.0.1:${port}/`, {
    createConnection: () =>
      (socket = secure
        ? tlsConnect({ socket: connect({ host: '127.0.0.1', port, localAddress }), rejectUnauthorized: false })
        : connect({ host: '127.0.0.1', port, localAddress })),
  });
  const frames: Peer['frames'] = [];
  ws.on('message', (raw) => {
    const value = JSON.parse(raw.toString()) as Peer['frames'][number] | Peer['frames'];
    frames.push(...(Array.isArray(value) ? value : [value]));
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed, pause: () => socket?.pause() }));
    ws.once('unexpected-response', () => reject(new Error('refused')));
    ws.once('error', reject);
  });
}

async function frame(p: Peer, type: string, timeoutMs = 10_000): Promise<Peer['frames'][number]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = p.frames.find((f) => f.type === type);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function joinRoom(name: string, localAddress?: string): Promise<{ p: Peer; id: string; token: string }> {
  const p = await peer(localAddress);
  p.ws.send(JSON.stringify({ type: 'hello', v: 1, name, code: CODE }));
  const welcome = (await frame(p, 'welcome')) as unknown as { you: { id: string }; token: string };
  return { p, id: welcome.you.id, token: welcome.token };
}

// ── 1. memory ────────────────────────────────────────────────────────────────
const attacker = '127.0.0.5';
const a = await joinRoom('Planter A', attacker);
const b = await joinRoom('Planter B', attacker);
const big = '界'.repeat(15_000); // 45 KB of UTF-8, under the 64 KiB frame limit
const PLANTED = 600;
let acked = 0;
a.p.ws.on('message', (raw) => (acked += raw.toString().split('"type":"ack"').length - 1));
const plantStart = Date.now();
for (let i = 0; i < PLANTED; i++) {
  // At the member's own rate (20/s): the host's limit is the attacker's limit.
  a.p.ws.send(JSON.stringify({ type: 'send', clientId: `p${i}`, to: b.id, text: `${i}${big}` }));
  await new Promise((resolve) => setTimeout(resolve, 52));
}
while (acked < PLANTED && Date.now() - plantStart < 60_000) await new Promise((resolve) => setTimeout(resolve, 50));
console.log(`planted ${acked} messages of 45 KB in ${((Date.now() - plantStart) / 1000).toFixed(1)} s`);

const bystander = await joinRoom('Bystander');
bystander.p.ws.setMaxListeners(0);
/** Sends a room message every 250 ms while `during` runs; returns the ack times. */
async function ackTimesWhile(during: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  const probe = setInterval(() => {
    const id = `probe-${Date.now()}-${Math.random()}`;
    const sent = Date.now();
    const onMessage = (raw: WebSocket.RawData): void => {
      if (!raw.toString().includes(id)) return;
      times.push(Date.now() - sent);
      bystander.p.ws.off('message', onMessage);
    };
    bystander.p.ws.on('message', onMessage);
    bystander.p.ws.send(JSON.stringify({ type: 'send', clientId: id.slice(0, 60), text: 'still here?' }));
  }, 250);
  await during();
  clearInterval(probe);
  return times.sort((x, y) => x - y);
}
const quiet = await ackTimesWhile(() => new Promise((resolve) => setTimeout(resolve, 5_000)));
const baseline = rssMB();
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, rssMB())), 50);
let stalled = 0;
let refused = 0;
const attackEnd = Date.now() + 20_000;
const ackTimes = await ackTimesWhile(async () => {
  while (Date.now() < attackEnd) {
    try {
      const p = await peer(attacker);
      p.pause();
      p.ws.send(JSON.stringify({ type: 'hello', v: 1, name: 'x', code: CODE, resume: { token: a.token, lastSeq: 1 } }));
      for (let i = 0; i < 30; i++) p.ws.send(JSON.stringify({ type: 'history', after: 1, limit: 500 }));
      stalled++;
    } catch {
      refused++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
clearInterval(sampler);
const pct = (times: number[], q: number): number => times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
console.log(`bystander acks with no attack: p50 ${pct(quiet, 0.5)} ms, max ${quiet.at(-1)} ms over ${quiet.length}`);
console.log(
  `memory: ${stalled} stalled resumes with history requests (${refused} connections refused) from one address in 20 s; ` +
    `host RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB at peak (+${(peak - baseline).toFixed(0)} MB); ` +
    `bystander acks during it p50 ${pct(ackTimes, 0.5)} ms, p99 ${pct(ackTimes, 0.99)} ms, max ${ackTimes.at(-1)} ms over ${ackTimes.length}`,
);

// ── 2. guessing ──────────────────────────────────────────────────────────────
async function guessFor(addresses: string[], ms: number): Promise<{ wrong: number; refused: number }> {
  const end = Date.now() + ms;
  const counts = { wrong: 0, refused: 0 };
  let n = 0;
  await Promise.all(
    addresses.map(async (address) => {
      while (Date.now() < end) {
        try {
          const p = await peer(address);
          p.ws.send(JSON.stringify({ type: 'hello', v: 1, name: 'g', code: String(10_000_000 + n++) }));
          const { reason } = await p.closed;
          if (reason === 'BEACON_ERR_WRONG_CODE') counts.wrong++;
          else counts.refused++;
          if (reason === 'BEACON_ERR_TOO_MANY_JOINS') await new Promise((resolve) => setTimeout(resolve, 1_000));
        } catch {
          counts.refused++;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }),
  );
  return counts;
}
const one = await guessFor(['127.0.3.2'], 60_000);
console.log(`guessing from 1 address for 60 s: ${one.wrong} codes checked (wrong), ${one.refused} refused unchecked`);
const many = await guessFor(
  Array.from({ length: 250 }, (_, i) => `127.0.4.${i + 2}`),
  60_000,
);
console.log(
  `guessing from 250 addresses for 60 s: ${many.wrong} codes checked (wrong), ${many.refused} refused unchecked`,
);
const perMinute = Math.max(one.wrong, many.wrong);
console.log(
  `expected time to guess the default 8-digit code at ${perMinute}/min: ${(5e7 / perMinute / 60 / 24 / 365).toFixed(1)} years`,
);
process.exit(0);
