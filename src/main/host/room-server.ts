import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostInfo } from '../../shared/chat-api.ts';
import { BeaconError, ERROR_MESSAGES, type ErrorCode } from '../../shared/errors.ts';
import { randomId } from '../../shared/ids.ts';
import {
  CLOSE,
  decodeClientFrame,
  encode,
  type HelloFrame,
  type HistoryRequestFrame,
  type HostFrame,
  type Member,
  type PresenceEvent,
  PROTOCOL_VERSION,
  type SendFrame,
  WIRE_LIMITS,
} from '../../shared/protocol.ts';
import { type Conversation, HistoryStore } from '../store/history-store.ts';
import { JoinGuard } from './join-guard.ts';
import { formatHostPort, isLoopback, isOwnHostName, shareableHosts } from './lan-addresses.ts';
import { DEFAULT_LIMITS, DEFAULT_ROOM_NAME, type RoomLimits, type RoomServerOptions } from './options.ts';
import { TokenBucket } from '../../shared/token-bucket.ts';
import { type Outlet, TickWriter } from './tick-writer.ts';
import { webFilesHandler } from './web-files.ts';

/** The heartbeat round is split into this many slices over the ping interval. */
const HEARTBEAT_SLICES = 10;

interface MemberState {
  id: string;
  name: string;
  token: string;
  joinedAt: number;
  /** What the member asked for; shown unless the connection is down. */
  chosenStatus: 'online' | 'away';
  connection: Connection | null;
  leaveTimer: ReturnType<typeof setTimeout> | null;
  /** The member's public JSON for its current status: every welcome lists every member, so it is built once. */
  json: { status: Member['status']; text: string } | null;
}

interface Connection extends Outlet {
  address: string;
  member: MemberState | null;
  /** Set by every pong or frame; cleared by every heartbeat ping. */
  alive: boolean;
  lastHeard: number;
  silent: boolean;
  leaving: boolean;
  helloInProgress: boolean;
  helloTimer: ReturnType<typeof setTimeout> | null;
  bucket: TokenBucket;
  pingBucket: TokenBucket;
  floodStrikes: number;
  floodWindowStart: number;
  malformed: number;
  /** Refused or replaced: closing, and no longer counted against its address. */
  refused: boolean;
}

export interface RoomServerEvents {
  presence: [event: PresenceEvent, member: Member];
  error: [error: Error];
}

const publicMember = (member: MemberState): Member => ({
  id: member.id,
  name: member.name,
  status: member.connection ? member.chosenStatus : 'reconnecting',
  joinedAt: member.joinedAt,
});

/**
 * A chat room: an HTTP server that serves the web client and upgrades
 * WebSocket connections; joining (codes, resume), presence and heartbeats;
 * messages into the store and out through the TickWriter.
 */
export class RoomServer extends EventEmitter<RoomServerEvents> {
  readonly limits: RoomLimits;
  readonly roomName: string;
  readonly code: string | null;
  readonly store: HistoryStore;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #bind: string | undefined;
  readonly #guard: JoinGuard;
  readonly #connections = new Set<Connection>();
  readonly #members = new Map<string, MemberState>();
  readonly #membersByToken = new Map<string, MemberState>();
  /** Lower-cased names in use, to make a newcomer's name distinct without scanning everyone. */
  readonly #names = new Map<string, string>();
  #port = 0;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Connections still to visit in the current heartbeat round, and how many per slice. */
  #beatQueue: Connection[] = [];
  #beatSlice = 0;
  #beatCount = 0;
  #stopping: Promise<void> | null = null;
  readonly #writer: TickWriter;

  private constructor(options: RoomServerOptions, store: HistoryStore) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    // A room keeps its name with its history: a restart without a name keeps the old one.
    this.roomName = options.roomName ?? store.getSetting('name') ?? DEFAULT_ROOM_NAME;
    store.setSetting('name', this.roomName);
    this.code = options.code && options.code.length > 0 ? options.code : null;
    this.store = store;
    this.#bind = options.bind;
    this.#guard = new JoinGuard({
      delayStepMs: this.limits.wrongCodeDelayMs,
      lockoutAfter: this.limits.lockoutAfter,
      lockoutMs: this.limits.lockoutMs,
    });
    this.#writer = new TickWriter({ maxBufferedBytes: this.limits.maxBufferedBytes, audience: () => this.#joined() });
    this.#http = createServer(webFilesHandler(options.webRoot));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /** Opens the history and starts listening. Rejects with BEACON_ERR_PORT_IN_USE or BEACON_ERR_BIND. */
  static async start(options: RoomServerOptions): Promise<RoomServer> {
    const store = HistoryStore.open(options.dataDir);
    const server = new RoomServer(options, store);
    try {
      await server.#listen(options.port);
    } catch (error) {
      store.close();
      throw error;
    }
    server.#heartbeat = setInterval(() => server.#beat(), server.limits.pingIntervalMs / HEARTBEAT_SLICES);
    return server;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code === 'EADDRINUSE') reject(new BeaconError('BEACON_ERR_PORT_IN_USE', `port ${port}`));
        else reject(new BeaconError('BEACON_ERR_BIND', `${this.#bind ?? 'all interfaces'}:${port}: ${error.code}`));
      };
      this.#http.once('error', onError);
      this.#http.listen({ port, host: this.#bind }, () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    const address = this.#http.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#http.on('error', (error) => this.emit('error', error));
  }

  get port(): number {
    return this.#port;
  }

  info(): HostInfo {
    const hosts = shareableHosts(this.#bind).map((host) => formatHostPort(host, this.#port));
    return {
      roomName: this.roomName,
      port: this.#port,
      code: this.code,
      addresses: hosts.map((host) => `ws://${host}`),
      webAddresses: hosts.map((host) => `http://${host}/`),
    };
  }

  *#joined(): Iterable<Connection> {
    for (const member of this.#members.values()) if (member.connection) yield member.connection;
  }

  members(): Member[] {
    return [...this.#members.values()].map(publicMember);
  }

  #memberJson(member: MemberState): string {
    const view = publicMember(member);
    if (member.json?.status !== view.status) member.json = { status: view.status, text: JSON.stringify(view) };
    return member.json.text;
  }

  // ── connections ────────────────────────────────────────────────────────────

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Browsers always send Origin; only the page this host served may connect.
    // Programs (the desktop app, the terminal client) send none.
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#ownOrigin(origin, req.headers.host)) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n${ERROR_MESSAGES.BEACON_ERR_ORIGIN}`);
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!isLoopback(address) && this.#unjoinedFrom(address) >= this.limits.maxUnjoinedPerAddress) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\n\r\n');
      return;
    }
    if (this.#stopping) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  /**
   * The page's origin must be this host, and named the way this machine is
   * known (its addresses, localhost, its host name): comparing Origin with the
   * Host header alone would let any web site in through DNS rebinding, since
   * that site controls both.
   */
  #ownOrigin(origin: string, host: string | undefined): boolean {
    try {
      const url = new URL(origin);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      return host !== undefined && url.host === host && port === this.#port && isOwnHostName(url.hostname, this.#bind);
    } catch {
      return false;
    }
  }

  #unjoinedFrom(address: string): number {
    let count = 0;
    for (const connection of this.#connections) {
      if (!connection.member && !connection.refused && connection.address === address) count++;
    }
    return count;
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const now = Date.now();
    const connection: Connection = {
      ws,
      address: req.socket.remoteAddress ?? 'unknown',
      member: null,
      alive: true,
      lastHeard: now,
      silent: false,
      leaving: false,
      helloInProgress: false,
      helloTimer: null,
      bucket: new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, now),
      pingBucket: new TokenBucket(2, 5, now),
      floodStrikes: 0,
      floodWindowStart: now,
      malformed: 0,
      pending: [],
      personal: false,
      presenceSeen: 0,
      refused: false,
    };
    this.#connections.add(connection);
    connection.helloTimer = setTimeout(
      () => this.#refuse(connection, 'BEACON_ERR_NOT_JOINED', CLOSE.HELLO_TIMEOUT),
      this.limits.helloTimeoutMs,
    );
    const heard = (): void => {
      connection.alive = true;
      connection.lastHeard = Date.now();
    };
    ws.on('pong', heard);
    ws.on('message', (data, isBinary) => {
      heard();
      this.#receive(connection, isBinary ? null : data.toString());
    });
    // ws reports protocol violations (an oversize frame among them) here and closes by itself.
    ws.on('error', () => {});
    ws.on('close', () => this.#closed(connection));
  }

  #receive(connection: Connection, raw: string | null): void {
    const decoded =
      raw === null ? ({ ok: false, reason: 'malformed', detail: 'binary frame' } as const) : decodeClientFrame(raw);
    if (!decoded.ok && decoded.reason === 'version') {
      this.#refuse(connection, 'BEACON_ERR_VERSION', CLOSE.VERSION, decoded.detail);
      return;
    }
    if (!decoded.ok) {
      const code = decoded.reason === 'unknown-type' ? 'BEACON_ERR_UNKNOWN_TYPE' : 'BEACON_ERR_MALFORMED';
      this.#sendError(connection, code, decoded.detail);
      if (++connection.malformed >= this.limits.malformedCloseAfter) {
        this.#refuse(connection, 'BEACON_ERR_ABUSE', CLOSE.POLICY);
      }
      return;
    }
    const frame = decoded.frame;
    const member = connection.member;
    if (!member) {
      if (frame.type === 'hello' && !connection.helloInProgress) this.#hello(connection, frame);
      else if (frame.type !== 'hello') this.#refuse(connection, 'BEACON_ERR_NOT_JOINED', CLOSE.POLICY);
      return;
    }
    switch (frame.type) {
      case 'ping':
        // Pings have a small budget of their own: a client pings every few seconds, never more.
        if (connection.pingBucket.take().ok) {
          this.#writer.queue(connection, encode({ type: 'pong', id: frame.id, t: frame.t }));
        }
        return;
      case 'hello':
        this.#sendError(connection, 'BEACON_ERR_MALFORMED', 'already joined');
        return;
      case 'leave':
        connection.leaving = true;
        connection.ws.close(CLOSE.NORMAL, 'leave');
        return;
    }
    const allowed = connection.bucket.take();
    if (!allowed.ok) {
      this.#throttled(connection, frame.type === 'send' ? frame.clientId : undefined, allowed.retryAfterMs);
      return;
    }
    switch (frame.type) {
      case 'send':
        this.#message(connection, member, frame);
        return;
      case 'typing': {
        this.#writer.releasePresence();
        const to = frame.to ?? null;
        const item = encode({ type: 'typing', from: member.id, to });
        if (to === null) this.#writer.broadcast(item, connection);
        else this.#sendToMember(to, item);
        return;
      }
      case 'status':
        if (member.chosenStatus !== frame.status) {
          member.chosenStatus = frame.status;
          // The sender hears it too: its own member list shows the status the room sees.
          this.#announce(frame.status === 'away' ? 'away' : 'back', member, null);
        }
        return;
      case 'history':
        this.#history(connection, member, frame);
        return;
    }
  }

  #throttled(connection: Connection, clientId: string | undefined, retryAfterMs: number): void {
    const now = Date.now();
    if (now - connection.floodWindowStart > this.limits.floodWindowMs) {
      connection.floodWindowStart = now;
      connection.floodStrikes = 0;
    }
    if (++connection.floodStrikes >= this.limits.floodCloseAfter) {
      this.#refuse(connection, 'BEACON_ERR_FLOODING', CLOSE.POLICY);
      return;
    }
    this.#writer.queue(
      connection,
      encode({
        type: 'error',
        code: 'BEACON_ERR_RATE_LIMITED',
        message: ERROR_MESSAGES.BEACON_ERR_RATE_LIMITED,
        retryAfterMs,
        ...(clientId ? { ref: clientId } : {}),
      }),
    );
  }

  // ── joining ────────────────────────────────────────────────────────────────

  #hello(connection: Connection, hello: HelloFrame): void {
    if (this.#guard.isLockedOut(connection.address)) {
      this.#refuse(connection, 'BEACON_ERR_LOCKED_OUT', CLOSE.LOCKED_OUT);
      return;
    }
    if (this.code !== null && hello.code !== this.code) {
      connection.helloInProgress = true;
      if (connection.helloTimer) clearTimeout(connection.helloTimer);
      const delay = this.#guard.recordFailure(connection.address);
      const lockedOut = this.#guard.isLockedOut(connection.address);
      setTimeout(
        () =>
          lockedOut
            ? this.#refuse(connection, 'BEACON_ERR_LOCKED_OUT', CLOSE.LOCKED_OUT)
            : this.#refuse(connection, 'BEACON_ERR_WRONG_CODE', CLOSE.WRONG_CODE),
        delay,
      );
      return;
    }
    this.#guard.recordSuccess(connection.address);
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    connection.helloTimer = null;

    const { member, resumed } = this.#identify(hello);
    const previous = member.connection;
    const wasReconnecting = previous === null && member.leaveTimer !== null;
    if (member.leaveTimer) clearTimeout(member.leaveTimer);
    member.leaveTimer = null;
    member.connection = connection;
    connection.member = member;
    if (previous) {
      // The same person connected again (a new socket before the old one timed out): the newest wins.
      previous.member = null;
      this.#refuse(previous, 'BEACON_ERR_REPLACED', CLOSE.REPLACED);
    }

    const lastSeq = hello.resume?.lastSeq ?? 0;
    const page =
      resumed && lastSeq > 0
        ? this.store.page(member.id, 'all', { after: lastSeq }, this.limits.resumePageSize)
        : this.store.page(member.id, 'all', {}, this.limits.historyPageSize);
    const welcome = encode({
      type: 'welcome',
      v: PROTOCOL_VERSION,
      room: { name: this.roomName },
      you: publicMember(member),
      token: member.token,
      resumed,
      members: [],
      history: page.messages,
      hasMore: page.hasMore,
      lastSeq: this.store.lastSeq,
      limits: {
        maxMessageBytes: this.limits.maxMessageBytes,
        pingIntervalMs: this.limits.pingIntervalMs,
        messagesPerSecond: this.limits.messagesPerSecond,
        messageBurst: this.limits.messageBurst,
      },
    });
    // Splice in the cached member list (`"members":[]` cannot occur inside an escaped string).
    const members = [...this.#members.values()].map((m) => this.#memberJson(m)).join(',');
    this.#writer.queue(connection, welcome.replace('"members":[]', `"members":[${members}]`));
    connection.presenceSeen = this.#writer.presenceNumber;
    if (wasReconnecting) this.#announce('back', member, connection);
    else if (!previous) this.#announce('joined', member, connection);
  }

  /** Finds the member a hello speaks for: a live one, one the store remembers, or a new one. */
  #identify(hello: HelloFrame): { member: MemberState; resumed: boolean } {
    const token = hello.resume?.token;
    if (token) {
      const live = this.#membersByToken.get(token);
      if (live) return { member: live, resumed: true };
      const stored = this.store.findMemberByToken(token);
      if (stored) {
        const member = this.#register({ ...stored, name: this.#distinctName(stored.name, stored.id) });
        return { member, resumed: true };
      }
    }
    const id = randomId('m_');
    const fresh = { id, name: this.#distinctName(hello.name, id), token: randomId('t_', 24), joinedAt: Date.now() };
    this.store.saveMember(fresh);
    return { member: this.#register(fresh), resumed: false };
  }

  #register(identity: { id: string; name: string; token: string; joinedAt: number }): MemberState {
    const member: MemberState = { ...identity, chosenStatus: 'online', connection: null, leaveTimer: null, json: null };
    this.#members.set(member.id, member);
    this.#names.set(member.name.toLocaleLowerCase(), member.id);
    this.#membersByToken.set(member.token, member);
    return member;
  }

  #distinctName(wanted: string, selfId: string): string {
    const taken = (name: string): boolean => {
      const holder = this.#names.get(name.toLocaleLowerCase());
      return holder !== undefined && holder !== selfId;
    };
    let name = wanted;
    for (let n = 2; taken(name); n++) {
      const suffix = ` (${n})`;
      name = `${wanted.slice(0, WIRE_LIMITS.nameChars - suffix.length).trimEnd()}${suffix}`;
    }
    return name;
  }

  // ── leaving ────────────────────────────────────────────────────────────────

  #closed(connection: Connection): void {
    this.#connections.delete(connection);
    this.#writer.forget(connection);
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    const member = connection.member;
    if (!member || member.connection !== connection || this.#stopping) return;
    member.connection = null;
    if (connection.leaving) {
      this.#remove(member);
      return;
    }
    this.#announce('reconnecting', member, null);
    // A silent member has already been gone since it was last heard from.
    const wait = connection.silent
      ? Math.max(0, connection.lastHeard + this.limits.silentLeaveMs - Date.now())
      : this.limits.reconnectGraceMs;
    member.leaveTimer = setTimeout(() => this.#remove(member), wait);
  }

  #remove(member: MemberState): void {
    if (member.leaveTimer) clearTimeout(member.leaveTimer);
    member.leaveTimer = null;
    this.#members.delete(member.id);
    this.#membersByToken.delete(member.token);
    this.#names.delete(member.name.toLocaleLowerCase());
    const left: Member = { ...publicMember(member), status: 'reconnecting' };
    this.#writer.broadcastPresence(encode({ type: 'presence', event: 'left', member: left }), null);
    this.emit('presence', 'left', left);
  }

  /**
   * Each member is pinged once per ping interval, but the room is visited in
   * slices spread over the interval: pinging 2,000 members at once is 2,000
   * system calls in one tick, a stall every message in flight would wait for.
   */
  #beat(): void {
    // A new round every HEARTBEAT_SLICES beats, whatever the room's size: each member is pinged once per interval.
    if (this.#beatCount++ % HEARTBEAT_SLICES === 0) {
      this.#guard.prune();
      this.#beatQueue = [...this.#connections];
      this.#beatSlice = Math.ceil(this.#beatQueue.length / HEARTBEAT_SLICES);
    }
    for (const connection of this.#beatQueue.splice(0, this.#beatSlice)) {
      if (!this.#connections.has(connection)) continue;
      if (!connection.alive) {
        connection.silent = true;
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }

  /** Tells the peer why (an error frame), then closes with a code whose reason is the stable error code. */
  #refuse(connection: Connection, code: ErrorCode, closeCode: number, detail?: string): void {
    connection.refused = true;
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    this.#sendError(connection, code, detail);
    this.#writer.flushNow(connection);
    connection.ws.close(closeCode, code);
  }

  #sendError(connection: Connection, code: ErrorCode, detail?: string, ref?: string): void {
    const message = detail ? `${ERROR_MESSAGES[code]} (${detail})` : ERROR_MESSAGES[code];
    this.#writer.queue(connection, encode({ type: 'error', code, message, ...(ref ? { ref } : {}) }));
  }

  // ── messages ───────────────────────────────────────────────────────────────

  #message(connection: Connection, member: MemberState, frame: SendFrame): void {
    const to = frame.to ?? null;
    if (frame.text.trim().length === 0) {
      this.#sendError(connection, 'BEACON_ERR_EMPTY', undefined, frame.clientId);
      return;
    }
    if (to !== null && (to === member.id || !this.#members.has(to))) {
      // A resend after a lost ack is acknowledged again, even if its recipient has left since.
      const stored = this.store.findSent(member.id, frame.clientId);
      if (stored) {
        this.#writer.queue(
          connection,
          encode({ type: 'ack', clientId: stored.clientId, seq: stored.seq, ts: stored.ts }),
        );
      } else {
        this.#sendError(connection, 'BEACON_ERR_NO_SUCH_MEMBER', undefined, frame.clientId);
      }
      return;
    }
    const { message, duplicate } = this.store.append({
      sender: member.id,
      recipient: to,
      text: frame.text,
      ts: Date.now(),
      clientId: frame.clientId,
    });
    this.#writer.queue(
      connection,
      encode({ type: 'ack', clientId: message.clientId, seq: message.seq, ts: message.ts }),
    );
    if (duplicate) return;
    this.#writer.releasePresence();
    const item = encode({ type: 'message', message });
    if (to === null) this.#writer.broadcast(item, connection);
    else this.#sendToMember(to, item);
  }

  #history(connection: Connection, member: MemberState, request: HistoryRequestFrame): void {
    const conversation: Conversation =
      request.conversation === undefined
        ? 'all'
        : request.conversation === 'room'
          ? 'room'
          : { with: request.conversation };
    const forward = request.after !== undefined;
    const range = forward ? { after: request.after } : { before: request.before };
    const page = this.store.page(member.id, conversation, range, request.limit ?? this.limits.historyPageSize);
    const reply: HostFrame = {
      type: 'history',
      messages: page.messages,
      hasMore: page.hasMore,
      direction: forward ? 'after' : 'before',
      ...(request.conversation === undefined ? {} : { conversation: request.conversation }),
    };
    this.#writer.queue(connection, encode(reply));
  }

  #announce(event: PresenceEvent, member: MemberState, except: Connection | null): void {
    const publicView = publicMember(member);
    this.#writer.broadcastPresence(encode({ type: 'presence', event, member: publicView }), except);
    this.emit('presence', event, publicView);
  }

  // ── the outgoing path ─────────────────────────────────────────────────────

  #sendToMember(memberId: string, item: string): void {
    const connection = this.#members.get(memberId)?.connection;
    if (connection) this.#writer.queue(connection, item);
  }

  // ── stopping ───────────────────────────────────────────────────────────────

  /** Tells every member the room is closing, closes with 1001 and closes the store. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#writer.stop();
    for (const member of this.#members.values()) if (member.leaveTimer) clearTimeout(member.leaveTimer);
    const closed = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === WebSocket.CLOSED) return resolve();
          connection.ws.once('close', () => resolve());
          this.#writer.queue(
            connection,
            encode({
              type: 'goodbye',
              reason: 'BEACON_ERR_HOST_STOPPED',
              message: ERROR_MESSAGES.BEACON_ERR_HOST_STOPPED,
            }),
          );
          this.#writer.flushNow(connection);
          connection.ws.close(CLOSE.GOING_AWAY, 'BEACON_ERR_HOST_STOPPED');
          setTimeout(() => connection.ws.terminate(), 1_000).unref();
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    this.store.close();
  }
}
