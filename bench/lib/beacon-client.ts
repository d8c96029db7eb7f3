/**
 * A plain `ws` Beacon client for the join, resume and store scenarios (one or
 * two connections at a time, so JSON parsing here costs nothing that matters).
 * Over TLS it pins the host's fingerprint as a Beacon client must: no CA check,
 * the fingerprint compared right after the handshake, before the upgrade
 * request leaves (the socket stays corked until then).
 */
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { fingerprintOf, type LeanTls } from './lean-ws.ts';
import { withTimeout } from './proc.ts';

export interface Joined {
  ws: WebSocket;
  /** From `new WebSocket` to the welcome frame received, ms. */
  connectToWelcomeMs: number;
  /** From the hello sent to the welcome frame received, ms. */
  helloToWelcomeMs: number;
  welcomeBytes: number;
  welcome: {
    you: { id: string };
    token: string;
    lastSeq: number;
    resumed: boolean;
    history: { seq: number }[];
    hasMore: boolean;
    members: unknown[];
  };
}

/** A server frame as parsed: its type, and fields to be narrowed where they are read. */
export interface Frame {
  type: string;
  [key: string]: unknown;
}

export function frames(data: string): Frame[] {
  const parsed: unknown = JSON.parse(data);
  // The server sends one frame object or a batch (an array) of them.
  return (Array.isArray(parsed) ? parsed : [parsed]) as Frame[];
}

function isWelcome(frame: Frame): frame is Frame & Joined['welcome'] {
  const you = frame.you;
  return (
    frame.type === 'welcome' &&
    typeof you === 'object' &&
    you !== null &&
    typeof (you as { id?: unknown }).id === 'string' &&
    typeof frame.token === 'string' &&
    typeof frame.lastSeq === 'number' &&
    typeof frame.resumed === 'boolean' &&
    typeof frame.hasMore === 'boolean' &&
    Array.isArray(frame.history) &&
    Array.isArray(frame.members)
  );
}

/** A TLS connection that writes nothing until the host showed the pinned fingerprint. */
function pinnedConnection(port: number, tls: LeanTls): TLSSocket {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  socket.cork();
  socket.once('secureConnect', () => {
    const presented = fingerprintOf(socket.getPeerCertificate().raw);
    if (presented === tls.fingerprint) socket.uncork();
    else socket.destroy(new Error(`host fingerprint ${presented}, expected ${tls.fingerprint}: nothing sent`));
  });
  return socket;
}

/** Joins the room at 127.0.0.1:`port`: over ws://, or over wss:// pinning `tls.fingerprint`. */
export function join(
  port: number,
  hello: Record<string, unknown>,
  timeoutMs = 10_000,
  tls: LeanTls | null = null,
): Promise<Joined> {
  const t0 = performance.now();
  const ws = tls
    ? new WebSocket(`wss://127.0.0.1:${port}/`, {
        perMessageDeflate: false,
        createConnection: () => pinnedConnection(port, tls),
      })
    : new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  let t1 = 0;
  const joined = new Promise<Joined>((resolve, reject) => {
    ws.on('open', () => {
      t1 = performance.now();
      ws.send(JSON.stringify({ type: 'hello', v: 1, ...hello }));
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()} before the welcome`)));
    ws.once('message', (data: Buffer) => {
      const t2 = performance.now();
      const welcome = frames(data.toString()).find(isWelcome);
      if (!welcome) return reject(new Error(`first frame was not a welcome: ${data.toString().slice(0, 200)}`));
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      resolve({
        ws,
        connectToWelcomeMs: t2 - t0,
        helloToWelcomeMs: t2 - t1,
        welcomeBytes: data.length,
        welcome,
      });
    });
  });
  return withTimeout(joined, timeoutMs, 'welcome').catch((error) => {
    ws.terminate();
    throw error;
  });
}

export function closed(ws: WebSocket, leave: boolean, timeoutMs = 5_000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  const done = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  if (leave && ws.readyState === WebSocket.OPEN) ws.send('{"type":"leave"}');
  else ws.close();
  return withTimeout(done, timeoutMs, 'close').catch(() => ws.terminate());
}

/**
 * Sends `count` messages with at most `window` unacknowledged, counting acks.
 * Resolves with the acked count, the highest acked seq, and the elapsed time.
 */
export function sendPipelined(
  ws: WebSocket,
  count: number,
  window: number,
  timeoutMs: number,
  text: (k: number) => string = (k) => `bench message ${k} ${'lorem ipsum '.repeat(6)}`,
  prefix = `s${Date.now().toString(36)}-`,
): Promise<{ acked: number; maxSeq: number; ms: number; outcome: string }> {
  return new Promise((resolve) => {
    let sent = 0;
    let acked = 0;
    let maxSeq = 0;
    const t0 = performance.now();
    const sendOne = (): void => {
      const k = sent++;
      ws.send(`{"type":"send","clientId":"${prefix}${k}","text":${JSON.stringify(text(k))}}`);
    };
    const finish = (outcome: string): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve({ acked, maxSeq, ms: performance.now() - t0, outcome });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onMessage = (data: Buffer): void => {
      for (const frame of frames(data.toString())) {
        if (frame.type === 'ack') {
          acked++;
          if (typeof frame.seq === 'number' && frame.seq > maxSeq) maxSeq = frame.seq;
          if (sent < count) sendOne();
        } else if (frame.type === 'error') {
          return finish(`error ${String(frame.code)}: ${String(frame.message)}`);
        }
      }
      if (acked >= count) finish('complete');
    };
    ws.on('message', onMessage);
    while (sent < Math.min(window, count)) sendOne();
  });
}
