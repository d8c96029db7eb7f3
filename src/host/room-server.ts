import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostInfo } from '../shared/chat-api.ts';
import { BeaconError, ERROR_MESSAGES, type ErrorCode } from '../shared/errors.ts';
import { checkDisplayName } from '../shared/display-name.ts';
import { normalizeJoinCode, randomId } from '../shared/ids.ts';
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
} from '../shared/protocol.ts';
import { type Conversation, HistoryStore } from './store/history-store.ts';
import { ConnectionGate, isHostsOwnAddress } from './connection-gate.ts';
import { Heartbeat } from './heartbeat.ts';
import { JoinGuard } from './join-guard.ts';
import { formatHostPort, isOwnHostName, shareableHosts } from './lan-addresses.ts';
import { NameRegistry } from './name-registry.ts';
import { RejoinThrottle } from './rejoin-throttle.ts';
import { DEFAULT_LIMITS, DEFAULT_ROOM_NAME, type RoomLimits, type RoomServerOptions } from './options.ts';
import { TokenBucket } from '../shared/token-bucket.ts';
import { type Outlet, TickWriter } from './tick-writer.ts';
import { webFilesHandler } from './web-files.ts';

/** The heartbeat round is split into this many slices over the ping interval. */
const HEARTBEAT_SLICES = 10;
/** How often identities nobody needs are looked for in the store. */
const IDENTITY_PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * A member's rate limits. They belong to the member, not to a connection:
 * rejoining or resuming must not refill them (a flooder once came back with a
 * full bucket after every 1008 and stored ~1,270 messages a second).
 */
interface MemberRates {
  messages: TokenBucket;
  pings: TokenBucket;
  history: TokenBucket;
  floodStrikes: number;
  floodWindowStart: number;
}

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
  rates: MemberRates;
  /** The last connection was dropped for reading too slowly: said in the next welcome. */
  droppedSlow: boolean;
}

interface Connection extends Outlet {
  address: string;
  socket: Socket;
  member: MemberState | null;
  /** Set by every pong or frame; cleared by every heartbeat ping. */
  alive: boolean;
  lastHeard: number;
  silent: boolean;
  leaving: boolean;
  helloInProgress: boolean;
  helloTimer: ReturnType<typeof setTimeout> | null;
  malformed: number;
  /** Refused or replaced: closing, and no longer counted against its address. */
  refused: boolean;
}

export interface RoomServerEvents {
  presence: [event: PresenceEvent, member: Member];
  error: [error: Error];
  /** Something the host operator may want to know (a connection closed after an internal failure, abuse). Never fatal. */
  warning: [message: string];
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
  readonly #store: HistoryStore;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #bind: string | undefined;
  readonly #gate: ConnectionGate;
  readonly #guard: JoinGuard;
  readonly #rejoins: RejoinThrottle;
  readonly #names: NameRegistry;
  readonly #connections = new Set<Connection>();
  readonly #members = new Map<string, MemberState>();
  readonly #membersByToken = new Map<string, MemberState>();
  /** Rate limits of members who left recently: coming back does not refill them. */
  readonly #departedRates = new Map<string, { rates: MemberRates; at: number }>();
  #port = 0;
  #heartbeat: Heartbeat<Connection> | null = null;
  #identityPruner: ReturnType<typeof setInterval> | null = null;
  #stopping: Promise<void> | null = null;
  readonly #writer: TickWriter;

  private constructor(options: RoomServerOptions, store: HistoryStore) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const limits = this.limits;
    // A room keeps its name with its history: a restart without a name keeps the old one.
    this.roomName = options.roomName ?? store.getSetting('name') ?? DEFAULT_ROOM_NAME;
    store.setSetting('name', this.roomName);
    this.code = options.code && options.code.length > 0 ? options.code : null;
    this.#store = store;
    this.#bind = options.bind;
    this.#gate = new ConnectionGate({
      total: limits.maxConnections,
      perAddress: limits.maxConnectionsPerAddress,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
    });
    this.#guard = new JoinGuard({
      delayStepMs: limits.wrongCodeDelayMs,
      lockoutAfter: limits.lockoutAfter,
      lockoutMs: limits.lockoutMs,
      maxLockoutMs: limits.maxLockoutMs,
      roomWrongPerMinute: limits.roomWrongCodesPerMinute,
      roomWrongBurst: limits.roomWrongCodeBurst,
    });
    this.#rejoins = new RejoinThrottle({
      hellosPerSecond: limits.hellosPerSecond,
      helloBurst: limits.helloBurst,
      penaltyMs: limits.abusePenaltyMs,
      maxPenaltyMs: limits.maxAbusePenaltyMs,
      maxAddresses: 50_000,
    });
    this.#names = new NameRegistry({ reserveMs: limits.nameReserveMs });
    const now = Date.now();
    // Names of people seen lately stay theirs across a restart of the host.
    for (const identity of store.recentIdentities(now - limits.nameReserveMs)) {
      this.#names.reserve(identity.name, identity.id, now + limits.nameReserveMs);
    }
    this.#writer = new TickWriter({
      maxBufferedBytes: limits.maxBufferedBytes,
      audience: () => this.#joined(),
      onSlowReader: (outlet) => {
        const member = (outlet as Connection).member;
        if (member) member.droppedSlow = true;
      },
    });
    this.#http = createServer(
      {
        // Slow or silent HTTP clients are cut quickly: each one holds a socket.
        headersTimeout: limits.handshakeTimeoutMs,
        requestTimeout: 2 * limits.handshakeTimeoutMs,
        connectionsCheckingInterval: 1_000,
      },
      webFilesHandler(options.webRoot),
    );
    this.#http.on('connection', (socket: Socket) => this.#gate.admit(socket));
    this.#http.on('request', (req: IncomingMessage) => this.#gate.spoke(req.socket));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
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
    server.#heartbeat = new Heartbeat<Connection>({
      intervalMs: server.limits.pingIntervalMs,
      slices: HEARTBEAT_SLICES,
      visit: (connection) => server.#beat(connection),
      onRound: () => server.#prune(),
    });
    server.#pruneIdentities();
    server.#identityPruner = setInterval(() => server.#pruneIdentities(), IDENTITY_PRUNE_INTERVAL_MS);
    server.#identityPruner.unref();
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

  /** False when this SQLite lacks FTS5 (search will be unavailable). */
  get hasFts5(): boolean {
    return this.#store.hasFts5;
  }

  /** The sequence number of the newest stored message. */
  get lastSeq(): number {
    return this.#store.lastSeq;
  }

  /** The resume token of the person hosting under `name`, kept with the room so hosting again keeps them who they were. */
  ownerToken(name: string): string | undefined {
    return this.#store.getSetting(`owner-token:${name}`);
  }

  keepOwnerToken(name: string, token: string): void {
    this.#store.setSetting(`owner-token:${name}`, token);
  }

  /** TCP connections held now (joined or not): for tests and diagnostics. */
  get openSockets(): number {
    return this.#gate.size;
  }

  #memberJson(member: MemberState): string {
    const view = publicMember(member);
    if (member.json?.status !== view.status) member.json = { status: view.status, text: JSON.stringify(view) };
    return member.json.text;
  }

  // ── connections ────────────────────────────────────────────────────────────

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#gate.spoke(req.socket);
    // Browsers always send Origin; only the page this host served may connect.
    // Programs (the desktop app, the terminal client) send none.
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#ownOrigin(origin, req.headers.host)) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n${ERROR_MESSAGES.BEACON_ERR_ORIGIN}`);
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!isHostsOwnAddress(address) && this.#unjoinedFrom(address) >= this.limits.maxUnjoinedPerAddress) {
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
    const connection: Connection = {
      ws,
      socket: req.socket,
      address: req.socket.remoteAddress ?? 'unknown',
      member: null,
      alive: true,
      lastHeard: Date.now(),
      silent: false,
      leaving: false,
      helloInProgress: false,
      helloTimer: null,
      malformed: 0,
      pending: [],
      pendingChars: 0,
      personal: false,
      presenceSeen: 0,
      refused: false,
    };
    this.#connections.add(connection);
    this.#heartbeat?.add(connection);
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
      // Whatever one frame does, it costs at most its own connection, never the host.
      try {
        this.#receive(connection, isBinary ? null : data.toString());
      } catch (error) {
        this.emit(
          'warning',
          `closed a connection from ${connection.address} after an internal failure: ${String(error)}`,
        );
        this.#refuse(connection, 'BEACON_ERR_INTERNAL', CLOSE.INTERNAL);
      }
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
      this.#sendError(connection, code, decoded.detail, 'ref' in decoded ? decoded.ref : undefined);
      this.#strike(connection);
      return;
    }
    const frame = decoded.frame;
    const member = connection.member;
    if (!member) {
      if (frame.type !== 'hello') this.#refuse(connection, 'BEACON_ERR_NOT_JOINED', CLOSE.POLICY);
      else if (connection.helloInProgress) this.#strike(connection);
      else this.#hello(connection, frame);
      return;
    }
    switch (frame.type) {
      case 'ping':
        // Pings have a small budget of their own: a client pings every few seconds, never more.
        if (member.rates.pings.take().ok) {
          this.#writer.queue(connection, encode({ type: 'pong', id: frame.id, t: frame.t }));
        } else {
          this.#floodStrike(connection, member);
        }
        return;
      case 'hello':
        this.#sendError(connection, 'BEACON_ERR_MALFORMED', 'already joined');
        this.#strike(connection);
        return;
      case 'leave':
        connection.leaving = true;
        connection.ws.close(CLOSE.NORMAL, 'leave');
        return;
      case 'history': {
        const allowed = member.rates.history.take();
        if (allowed.ok) this.#history(connection, member, frame);
        else this.#throttled(connection, member, undefined, allowed.retryAfterMs);
        return;
      }
    }
    const allowed = member.rates.messages.take();
    if (!allowed.ok) {
      this.#throttled(connection, member, frame.type === 'send' ? frame.clientId : undefined, allowed.retryAfterMs);
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
    }
  }

  /** A malformed, unknown or repeated frame: tolerated a few times, then the connection is closed and its address penalised. */
  #strike(connection: Connection): void {
    if (++connection.malformed < this.limits.malformedCloseAfter) return;
    this.#rejoins.penalize(connection.address);
    this.#refuse(connection, 'BEACON_ERR_ABUSE', CLOSE.POLICY);
  }

  #throttled(connection: Connection, member: MemberState, clientId: string | undefined, retryAfterMs: number): void {
    if (!this.#floodStrike(connection, member)) return;
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

  /** Counts a refusal for rate; returns false when that closed the connection for flooding. */
  #floodStrike(connection: Connection, member: MemberState): boolean {
    const rates = member.rates;
    const now = Date.now();
    if (now - rates.floodWindowStart > this.limits.floodWindowMs) {
      rates.floodWindowStart = now;
      rates.floodStrikes = 0;
    }
    if (++rates.floodStrikes < this.limits.floodCloseAfter) return true;
    rates.floodStrikes = 0;
    const penaltyMs = this.#rejoins.penalize(connection.address, now);
    this.emit(
      'warning',
      `${member.name} (${connection.address}) was disconnected for flooding; penalty ${penaltyMs} ms`,
    );
    this.#refuse(connection, 'BEACON_ERR_FLOODING', CLOSE.POLICY);
    return false;
  }

  // ── joining ────────────────────────────────────────────────────────────────

  #hello(connection: Connection, hello: HelloFrame): void {
    connection.helloInProgress = true;
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    connection.helloTimer = null;
    const now = Date.now();
    const rejoin = this.#rejoins.hello(connection.address, now);
    if (!rejoin.ok) {
      if (rejoin.reason === 'penalized') {
        this.#refuse(connection, 'BEACON_ERR_PENALIZED', CLOSE.POLICY, undefined, rejoin.retryAfterMs);
      } else {
        this.#refuse(connection, 'BEACON_ERR_TOO_MANY_JOINS', CLOSE.TRY_AGAIN_LATER, undefined, rejoin.retryAfterMs);
      }
      return;
    }
    const name = checkDisplayName(hello.name);
    if (!name.ok) {
      this.#refuse(connection, 'BEACON_ERR_BAD_NAME', CLOSE.BAD_NAME, name.reason);
      return;
    }
    // A member coming back with its resume token needs no code: the token is the stronger secret, and
    // so a flood of wrong codes (which stops code checks room-wide) never keeps members out.
    const known = hello.resume ? this.#knownIdentity(hello.resume.token) : undefined;
    if (!known && this.code !== null && !this.#codeAccepted(connection, hello.code ?? '', now)) return;

    const { member, resumed } = known
      ? { member: known, resumed: true }
      : { member: this.#newMember(name.name, now), resumed: false };
    const previous = member.connection;
    const wasReconnecting = previous === null && member.leaveTimer !== null;
    if (member.leaveTimer) clearTimeout(member.leaveTimer);
    member.leaveTimer = null;
    member.connection = connection;
    connection.member = member;
    this.#gate.joined(connection.socket);
    this.#store.touchMember(member.id, now);
    if (previous) {
      // The same person connected again (a new socket before the old one timed out): the newest wins.
      previous.member = null;
      this.#refuse(previous, 'BEACON_ERR_REPLACED', CLOSE.REPLACED);
    }

    const lastSeq = hello.resume?.lastSeq ?? 0;
    const page =
      resumed && lastSeq > 0
        ? this.#store.page(member.id, 'all', { after: lastSeq }, this.limits.resumePageSize, this.limits.maxPageBytes)
        : this.#store.page(member.id, 'all', {}, this.limits.historyPageSize, this.limits.maxPageBytes);
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
      lastSeq: this.#store.lastSeq,
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
    if (member.droppedSlow) {
      // The 4006 close queued behind the data it could not read, so it most likely never arrived: say it now.
      member.droppedSlow = false;
      this.#sendError(connection, 'BEACON_ERR_SLOW_READER');
    }
    connection.presenceSeen = this.#writer.presenceNumber;
    if (wasReconnecting) this.#announce('back', member, connection);
    else if (!previous) this.#announce('joined', member, connection);
  }

  /**
   * Checks a join code, if the guard allows a check at all; refuses the
   * connection (after the guard's delay for a wrong code) and returns false otherwise.
   */
  #codeAccepted(connection: Connection, code: string, now: number): boolean {
    const check = this.#guard.mayCheck(connection.address, now);
    if (!check.ok) {
      const error = check.reason === 'locked-out' ? 'BEACON_ERR_LOCKED_OUT' : 'BEACON_ERR_ROOM_BUSY';
      this.#refuse(connection, error, CLOSE.LOCKED_OUT, undefined, check.retryAfterMs);
      return false;
    }
    if (normalizeJoinCode(code) === normalizeJoinCode(this.code ?? '')) {
      this.#guard.recordSuccess(connection.address, now);
      return true;
    }
    const { delayMs, lockedOut } = this.#guard.recordFailure(connection.address, now);
    setTimeout(
      () =>
        lockedOut
          ? this.#refuse(connection, 'BEACON_ERR_LOCKED_OUT', CLOSE.LOCKED_OUT)
          : this.#refuse(connection, 'BEACON_ERR_WRONG_CODE', CLOSE.WRONG_CODE),
      delayMs,
    );
    return false;
  }

  /** The member a resume token speaks for: one live in the room, or one the store remembers. */
  #knownIdentity(token: string): MemberState | undefined {
    const live = this.#membersByToken.get(token);
    if (live) return live;
    const stored = this.#store.findMemberByToken(token);
    if (!stored) return undefined;
    // Their name is theirs again, unless someone else holds it now.
    return this.#register({ ...stored, name: this.#names.claim(stored.name, stored.id, Date.now()) });
  }

  #newMember(wanted: string, now: number): MemberState {
    const id = randomId('m_');
    const fresh = { id, name: this.#names.claim(wanted, id, now), token: randomId('t_', 24), joinedAt: now };
    this.#store.saveMember(fresh);
    return this.#register(fresh);
  }

  #register(identity: { id: string; name: string; token: string; joinedAt: number }): MemberState {
    const departed = this.#departedRates.get(identity.id);
    this.#departedRates.delete(identity.id);
    const now = Date.now();
    const rates: MemberRates = departed?.rates ?? {
      messages: new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, now),
      pings: new TokenBucket(2, 5, now),
      history: new TokenBucket(this.limits.historyPerSecond, this.limits.historyBurst, now),
      floodStrikes: 0,
      floodWindowStart: now,
    };
    const member: MemberState = {
      ...identity,
      chosenStatus: 'online',
      connection: null,
      leaveTimer: null,
      json: null,
      rates,
      droppedSlow: false,
    };
    this.#members.set(member.id, member);
    this.#membersByToken.set(member.token, member);
    return member;
  }

  // ── leaving ────────────────────────────────────────────────────────────────

  #closed(connection: Connection): void {
    this.#connections.delete(connection);
    this.#heartbeat?.remove(connection);
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
    const now = Date.now();
    this.#members.delete(member.id);
    this.#membersByToken.delete(member.token);
    this.#names.release(member.id, now);
    this.#departedRates.set(member.id, { rates: member.rates, at: now });
    this.#store.touchMember(member.id, now);
    const left: Member = { ...publicMember(member), status: 'reconnecting' };
    this.#writer.broadcastPresence(encode({ type: 'presence', event: 'left', member: left }), null);
    this.emit('presence', 'left', left);
  }

  /** One heartbeat visit: a connection that did not answer the last ping is cut; the others are pinged. */
  #beat(connection: Connection): void {
    if (!connection.alive) {
      connection.silent = true;
      this.#heartbeat?.remove(connection);
      connection.ws.terminate();
      return;
    }
    connection.alive = false;
    connection.ws.ping();
  }

  /** Once per heartbeat round: forget what no longer matters, so no table grows without bound. */
  #prune(): void {
    const now = Date.now();
    this.#guard.prune(now);
    this.#rejoins.prune(now);
    this.#names.prune(now);
    // Long enough for a flood window to pass and every bucket to refill.
    const keepMs = Math.max(this.limits.floodWindowMs, 60_000);
    for (const [id, departed] of this.#departedRates) if (now - departed.at > keepMs) this.#departedRates.delete(id);
  }

  #pruneIdentities(): void {
    const now = Date.now();
    // Members here now are seen now, however long ago they joined.
    for (const member of this.#members.values()) this.#store.touchMember(member.id, now);
    this.#store.pruneIdentities(this.limits.identityIdleMs, now);
  }

  /** Tells the peer why (an error frame), then closes with a code whose reason is the stable error code. */
  #refuse(connection: Connection, code: ErrorCode, closeCode: number, detail?: string, retryAfterMs?: number): void {
    connection.refused = true;
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    this.#sendError(connection, code, detail, undefined, retryAfterMs);
    this.#writer.flushNow(connection);
    connection.ws.close(closeCode, code);
  }

  #sendError(connection: Connection, code: ErrorCode, detail?: string, ref?: string, retryAfterMs?: number): void {
    const message = detail ? `${ERROR_MESSAGES[code]} (${detail})` : ERROR_MESSAGES[code];
    this.#writer.queue(
      connection,
      encode({
        type: 'error',
        code,
        message,
        ...(ref ? { ref } : {}),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }),
    );
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
      const stored = this.#store.findSent(member.id, frame.clientId);
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
    const { message, duplicate } = this.#store.append({
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
    const page = this.#store.page(
      member.id,
      conversation,
      range,
      request.limit ?? this.limits.historyPageSize,
      this.limits.maxPageBytes,
    );
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
    this.#heartbeat?.stop();
    if (this.#identityPruner) clearInterval(this.#identityPruner);
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
    this.#store.close();
  }
}
