import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { RoomLimits } from '../../src/host/options.ts';
import { type Conversation, HistoryStore } from '../../src/host/store/history-store.ts';
import { RoomServer } from '../../src/host/room-server.ts';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import { decodeHostFrames, type HostFrame } from '../../src/shared/protocol.ts';
import { RoomClient, type RoomClientEvents, type RoomClientOptions } from '../../src/shared/room-client.ts';

const cleanups: (() => unknown)[] = [];

/** Runs everything registered by the helpers below; call from afterEach. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startRoom(
  options: {
    code?: string | null;
    limits?: Partial<RoomLimits>;
    dataDir?: string;
    webRoot?: string;
    port?: number;
    /**
     * TLS with the room's own key in `dataDir` (wss://), as every real host runs. Off by default here:
     * tests about something else run the host with `insecure` and speak ws://.
     */
    encrypted?: boolean;
    /** v1.5: who may create channels (RoomServerOptions.channelCreators). */
    channelCreators?: 'everyone' | 'host';
    keepEditHistory?: boolean;
  } = {},
): Promise<RoomServer> {
  const server = await RoomServer.start({
    port: options.port ?? 0,
    bind: '127.0.0.1',
    roomName: 'Test room',
    code: options.code === undefined ? '1234' : options.code,
    dataDir: options.dataDir ?? tempDir(),
    webRoot: options.webRoot,
    insecure: !options.encrypted,
    limits: options.limits,
    channelCreators: options.channelCreators,
    keepEditHistory: options.keepEditHistory,
  });
  cleanups.push(() => server.stop());
  return server;
}

/** What a room's history file holds now, read through a connection of its own (the host's store is its own business). */
export function storedTexts(dataDir: string, memberId: string, conversation: Conversation = 'all'): string[] {
  const store = HistoryStore.open(dataDir);
  try {
    return store.page(memberId, conversation, {}, 1_000).messages.map((message) => message.text);
  } finally {
    store.close();
  }
}

/** Puts messages into a room's history before its host starts. */
export function seedHistory(dataDir: string, texts: readonly string[], sender = 'm_old'): void {
  const store = HistoryStore.open(dataDir);
  texts.forEach((text, i) => store.append({ sender, recipient: null, text, ts: i + 1, clientId: `seed${i}` }));
  store.close();
}

/** The wss:// address of an encrypted host known only by its port (a child process, a desktop-hosted room). */
export function encryptedAddress(port: number): string {
  return `wss://127.0.0.1:${port}/`;
}

/** ws:// for a port or an insecure host, wss:// for an encrypted one. */
export function roomAddress(server: RoomServer | number): string {
  if (typeof server === 'number') return `ws://127.0.0.1:${server}/`;
  return `${server.fingerprint ? 'wss' : 'ws'}://127.0.0.1:${server.port}/`;
}

export function client(
  server: RoomServer | number,
  name: string,
  options: Partial<RoomClientOptions> = {},
): RoomClient {
  const roomClient = new RoomClient({
    url: roomAddress(server),
    name,
    code: '1234',
    socketFactory: wsSocketFactory,
    ...options,
  });
  cleanups.push(() => roomClient.close());
  return roomClient;
}

export async function joined(server: RoomServer | number, name: string, options: Partial<RoomClientOptions> = {}) {
  const roomClient = client(server, name, options);
  await roomClient.connect();
  return roomClient;
}

/** Resolves with the arguments of the first `event` that satisfies `predicate`. */
export function next<K extends keyof RoomClientEvents>(
  target: RoomClient,
  event: K,
  predicate: (...args: RoomClientEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<RoomClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = target.on(event, (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** A raw WebSocket that records every host frame, for poking at the protocol directly. */
export class RawPeer {
  readonly ws: WebSocket;
  readonly frames: HostFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  /** The TCP socket under the WebSocket, created here so a test can stop reading without touching ws internals. */
  #socket: Socket | null = null;

  constructor(server: RoomServer | number, options: { headers?: Record<string, string>; localAddress?: string } = {}) {
    this.ws = new WebSocket(roomAddress(server), {
      headers: options.headers ?? {},
      createConnection: (opts: unknown) => {
        const { host, port } = opts as { host: string; port: number };
        const local = options.localAddress ? { localAddress: options.localAddress } : {};
        // An encrypted host's certificate is not checked here: this peer pokes at the protocol, not at trust.
        this.#socket =
          typeof server !== 'number' && server.fingerprint
            ? connectTls({ host, port, rejectUnauthorized: false, ...local })
            : connect({ host, port, ...local });
        return this.#socket;
      },
    });
    this.ws.on('message', (data) => {
      for (const decoded of decodeHostFrames(data.toString())) if (decoded.ok) this.frames.push(decoded.frame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    cleanups.push(() => this.ws.terminate());
  }

  /** Stops reading from the host: its pings go unanswered and what it writes piles up. */
  stopReading(): void {
    this.#socket?.pause();
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  async hello(name = 'raw', code = '1234'): Promise<Extract<HostFrame, { type: 'welcome' }>> {
    await this.opened();
    this.send({ type: 'hello', v: 1, name, code });
    return (await this.frame('welcome')) as Extract<HostFrame, { type: 'welcome' }>;
  }

  /** The first frame of `type` (already received or still to come) that satisfies `predicate`. */
  async frame<T extends HostFrame['type']>(
    type: T,
    predicate: (frame: Extract<HostFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<HostFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(
        (frame): frame is Extract<HostFrame, { type: T }> =>
          frame.type === type && predicate(frame as Extract<HostFrame, { type: T }>),
      );
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
