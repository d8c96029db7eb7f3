/**
 * A chat room on plain Node: one TCP port where an HTTPS server (HTTP with
 * `insecure`) serves the web client and upgrades WebSocket connections,
 * handing each connection to admission (until it has joined) and to the
 * room's traffic (after), with a heartbeat that cuts the silent. Its parts:
 * Admission, Members, RoomTraffic, TickWriter, the room's files (FileService:
 * everything under /files, files/file-service.ts) and the history store, which
 * nothing outside the host touches.
 *
 * On the port, every TCP connection passes the connection gate first; then
 * its first byte decides: a TLS handshake (0x16) goes to the HTTPS server,
 * anything else to the plain entrance, which only points browsers to https://
 * and refuses ws:// (plain-entrance.ts).
 */
import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostInfo } from '../shared/chat-api.ts';
import { BeaconError, errorMessage } from '../shared/errors.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { CLOSE, encode, type Member, type PresenceEvent } from '../shared/protocol.ts';
import { FILES_PATH } from '../shared/files.ts';
import { Admission } from './admission.ts';
import { type Connection, newConnection, Replies } from './connection.ts';
import { ConnectionGate } from './connection-gate.ts';
import { Audience } from './conversations/audience.ts';
import { ChannelDirectory } from './conversations/channel-directory.ts';
import { MessageChanges } from './conversations/message-changes.ts';
import { SearchRequests } from './conversations/search-requests.ts';
import { FileService } from './files/file-service.ts';
import { refuse } from './files/file-refusal.ts';
import { Heartbeat } from './heartbeat.ts';
import { formatHostPort, ownHostHeader, shareableHosts } from './lan-addresses.ts';
import { MemberRequests } from './member-requests.ts';
import { Members } from './members.ts';
import { DEFAULT_LIMITS, DEFAULT_ROOM_NAME, type RoomLimits, type RoomServerOptions } from './options.ts';
import { RejoinThrottle } from './rejoin-throttle.ts';
import { plainEntrance } from './plain-entrance.ts';
import { RoomTraffic } from './room-traffic.ts';
import { HistoryStore } from './store/history-store.ts';
import { TickWriter } from './tick-writer.ts';
import { loadOrCreateIdentity, type TlsIdentity } from './tls-identity.ts';
import { webFilesHandler } from './web-files.ts';

/** The heartbeat round is split into this many slices over the ping interval. */
const HEARTBEAT_SLICES = 10;
/** How often identities nobody needs are looked for in the store. */
const IDENTITY_PRUNE_INTERVAL_MS = 60 * 60_000;
/** Addresses whose join rate, penalties and new identities are remembered at most (each table). */
const MAX_THROTTLED_ADDRESSES = 50_000;
/** How often Node's HTTP server looks for requests past their timeouts. */
const HTTP_TIMEOUT_CHECK_MS = 1_000;
/** A member that does not read the goodbye and close in this time is cut. */
const CLOSE_GRACE_MS = 1_000;
/** The first byte of a TLS handshake record (a ClientHello). */
const TLS_HANDSHAKE = 0x16;

export interface RoomServerEvents {
  presence: [event: PresenceEvent, member: Member];
  error: [error: Error];
  /** Something the host operator may want to know (a connection closed after an internal failure, abuse). Never fatal. */
  warning: [message: string];
}

export class RoomServer extends EventEmitter<RoomServerEvents> {
  readonly limits: RoomLimits;
  readonly roomName: string;
  readonly code: string | null;
  /** The fingerprint of the host's certificate; null for an `insecure` host. */
  readonly fingerprint: Fingerprint | null;
  readonly #store: HistoryStore;
  readonly #bind: string | undefined;
  /** The one listening socket: every connection arrives here first. */
  readonly #front: NetServer;
  /** The room's web server: HTTPS, or HTTP for an `insecure` host. */
  readonly #http: HttpServer | HttpsServer;
  /** What answers a connection that does not speak TLS to an encrypted host. */
  readonly #plain: HttpServer | null;
  readonly #wss: WebSocketServer;
  readonly #gate: ConnectionGate;
  readonly #rejoins: RejoinThrottle;
  readonly #writer: TickWriter;
  readonly #members: Members;
  readonly #admission: Admission;
  readonly #traffic: RoomTraffic;
  readonly #replies: Replies;
  readonly #connections = new Set<Connection>();
  /** The room's files; null when the history is in memory (nowhere to keep them). */
  readonly #files: FileService | null;
  #port = 0;
  #heartbeat: Heartbeat<Connection> | null = null;
  #identityPruner: ReturnType<typeof setInterval> | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(
    options: RoomServerOptions,
    store: HistoryStore,
    identity: TlsIdentity | null,
    files: FileService | null,
  ) {
    super();
    const limits = (this.limits = { ...DEFAULT_LIMITS, ...options.limits });
    this.#files = files;
    // A room keeps its name with its history: a restart without a name keeps the old one.
    this.roomName = options.roomName ?? store.getSetting('name') ?? DEFAULT_ROOM_NAME;
    store.setSetting('name', this.roomName);
    this.code = options.code && options.code.length > 0 ? options.code : null;
    this.fingerprint = identity?.fingerprint ?? null;
    this.#store = store;
    this.#bind = options.bind;
    this.#gate = new ConnectionGate({
      total: limits.maxConnections,
      perAddress: limits.maxConnectionsPerAddress,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
    });
    this.#rejoins = new RejoinThrottle({
      hellosPerSecond: limits.hellosPerSecond,
      helloBurst: limits.helloBurst,
      penaltyMs: limits.abusePenaltyMs,
      maxPenaltyMs: limits.maxAbusePenaltyMs,
      maxAddresses: MAX_THROTTLED_ADDRESSES,
    });
    this.#writer = new TickWriter({
      maxBufferedBytes: limits.maxBufferedBytes,
      audience: () => this.#members.connections(),
      hearingAll: () => this.#members.hearingAll(),
      onSlowReader: (outlet) => {
        const member = (outlet as Connection).member;
        if (member) member.droppedSlow = true;
      },
    });
    const replies = (this.#replies = new Replies(this.#writer));
    this.#members = new Members({
      limits,
      store,
      writer: this.#writer,
      onPresence: (event, member) => this.emit('presence', event, member),
    });
    const channels = new ChannelDirectory({
      store,
      maxChannels: limits.maxChannels,
      maxChannelsPerMember: limits.maxChannelsPerMember,
      creators: options.channelCreators ?? 'everyone',
    });
    const audience = new Audience({ writer: this.#writer, members: this.#members });
    this.#admission = new Admission({
      limits,
      code: this.code,
      roomName: this.roomName,
      bind: this.#bind,
      port: () => this.#port,
      encrypted: identity !== null,
      store,
      members: this.#members,
      writer: this.#writer,
      replies,
      rejoins: this.#rejoins,
      maxNewcomerAddresses: MAX_THROTTLED_ADDRESSES,
      onJoined: (connection) => this.#gate.joined(connection.socket),
      files: files && ((memberId) => files.welcomeFiles(memberId)),
      channels,
    });
    this.#traffic = new RoomTraffic({
      limits,
      store,
      members: this.#members,
      admission: this.#admission,
      writer: this.#writer,
      replies,
      rejoins: this.#rejoins,
      files,
      warn: (message) => this.emit('warning', message),
      audience,
      channels,
      changes: new MessageChanges({ store, channels, audience, writer: this.#writer, replies }),
      searches: new SearchRequests({ store, writer: this.#writer, replies, maxBytes: limits.maxPageBytes }),
      memberRequests: new MemberRequests({ members: this.#members, writer: this.#writer }),
    });
    const timeouts = {
      // Slow or silent HTTP clients are cut quickly: each one holds a socket.
      headersTimeout: limits.handshakeTimeoutMs,
      requestTimeout: 2 * limits.handshakeTimeoutMs,
      connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_MS,
    };
    // A file's body takes as long as the network needs, so Node's limit on receiving a whole request
    // is off; FileService cuts a file request that is silent for fileIdleMs instead, and every other
    // request keeps the old limit (pageRequestTimer).
    const webTimeouts = { ...timeouts, requestTimeout: 0 };
    const web = webFilesHandler(options.webRoot, {
      info: {
        name: this.roomName,
        codeRequired: this.code !== null,
        fingerprint: this.fingerprint,
        encrypted: identity !== null,
      },
      isOwnHost: (host) => this.#ownHost(host) !== null,
    });
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const path = (req.url ?? '').split('?')[0]!;
      if (path !== FILES_PATH && !path.startsWith(`${FILES_PATH}/`)) {
        pageRequestTimer(req, timeouts.requestTimeout);
        web(req, res);
        return;
      }
      // As for /room.json: a page of another site that rebinds its name to this machine gets nothing.
      if (this.#ownHost(req.headers.host) === null) refuse(res, 'BEACON_ERR_FILE_REQUEST', { status: 421 });
      else if (!this.#files || this.#stopping) refuse(res, 'BEACON_ERR_NO_FILES');
      else this.#files.handle(req, res);
    };
    this.#http = identity
      ? createHttpsServer(
          // A connection stalled in its TLS handshake is cut like one that never sends a request.
          { ...webTimeouts, key: identity.key, cert: identity.cert, handshakeTimeout: limits.handshakeTimeoutMs },
          handler,
        )
      : createHttpServer(webTimeouts, handler);
    // A failed handshake (a scanner, a client that distrusts the certificate) costs only its socket.
    this.#http.on('tlsClientError', (_error: Error, socket: Duplex) => socket.destroy());
    this.#http.on('request', (req: IncomingMessage) => this.#gate.spoke(underlyingSocket(req.socket)));
    this.#plain = identity
      ? plainEntrance({
          ...timeouts,
          ownHost: (host) => this.#ownHost(host),
          spoke: (req) => this.#gate.spoke(req.socket),
        })
      : null;
    this.#front = createNetServer((socket) => this.#arrived(socket));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /**
   * Loads (or on the first start makes) the room's key, opens the history and starts listening. Rejects
   * with BEACON_ERR_HOST_KEY, BEACON_ERR_PORT_IN_USE or BEACON_ERR_BIND.
   */
  static async start(options: RoomServerOptions): Promise<RoomServer> {
    // The key first: a room whose key cannot be read must not start (and change its fingerprint).
    const identity = options.insecure ? null : await loadOrCreateIdentity(options.identityDir ?? options.dataDir);
    const store = HistoryStore.open(options.dataDir, { keepEditHistory: options.keepEditHistory ?? false });
    // Recovery warns before anyone can listen: kept until the first 'warning' listener (deliverEarly).
    const warnings: { to?: RoomServer; early: string[] } = { early: [] };
    let files: FileService | null = null;
    if (options.dataDir !== ':memory:') {
      try {
        files = await FileService.open({
          dataDir: options.dataDir,
          store,
          limits: { ...DEFAULT_LIMITS, ...options.limits },
          warn: (message) => (warnings.to ? warnings.to.emit('warning', message) : warnings.early.push(message)),
        });
      } catch (error) {
        store.close();
        throw new BeaconError('BEACON_ERR_STORE', `${options.dataDir}: files: ${(error as Error).message}`);
      }
    }
    const server = (warnings.to = new RoomServer(options, store, identity, files));
    server.#deliverEarly(warnings.early);
    try {
      await server.#listen(options.port);
    } catch (error) {
      files?.stop();
      store.close();
      throw error;
    }
    server.#heartbeat = new Heartbeat<Connection>({
      intervalMs: server.limits.pingIntervalMs,
      slices: HEARTBEAT_SLICES,
      visit: (connection) => server.#beat(connection),
      onRound: () => server.#prune(),
    });
    server.#members.pruneIdentities(Date.now());
    server.#identityPruner = setInterval(() => server.#members.pruneIdentities(Date.now()), IDENTITY_PRUNE_INTERVAL_MS);
    server.#identityPruner.unref();
    return server;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code === 'EADDRINUSE') reject(new BeaconError('BEACON_ERR_PORT_IN_USE', `port ${port}`));
        else reject(new BeaconError('BEACON_ERR_BIND', `${this.#bind ?? 'all interfaces'}:${port}: ${error.code}`));
      };
      this.#front.once('error', onError);
      this.#front.listen({ port, host: this.#bind }, () => {
        this.#front.off('error', onError);
        resolve();
      });
    });
    const address = this.#front.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#front.on('error', (error) => this.emit('error', error));
    // The web servers never listen themselves; this starts their header and request timeouts (and
    // their tracking of connections, which closeAllConnections needs) for the connections handed to them.
    for (const server of [this.#http, this.#plain]) server?.emit('listening');
  }

  /** Every TCP connection: through the gate, then to HTTPS or the plain entrance by its first byte. */
  #arrived(socket: Socket): void {
    if (!this.#gate.admit(socket)) return;
    if (!this.#plain) {
      this.#http.emit('connection', socket);
      return;
    }
    socket.on('error', () => {});
    // Until the first byte, the gate's handshake timer is all that holds this socket.
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (first === null) {
        socket.destroy();
        return;
      }
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? this.#http : this.#plain!).emit('connection', socket);
    });
  }

  /** "host:port" when a request's Host header names this machine on this port (see ownHostHeader). */
  #ownHost(host: string | undefined): string | null {
    return ownHostHeader(host, this.#port, this.fingerprint ? 443 : 80, this.#bind);
  }

  get port(): number {
    return this.#port;
  }

  info(): HostInfo {
    const hosts = shareableHosts(this.#bind).map((host) => formatHostPort(host, this.#port));
    const secure = this.fingerprint !== null;
    const webAddresses = hosts.map((host) => `${secure ? 'https' : 'http'}://${host}/`);
    return {
      roomName: this.roomName,
      port: this.#port,
      code: this.code,
      addresses: hosts.map((host) => `${secure ? 'wss' : 'ws'}://${host}`),
      webAddresses,
      fingerprint: this.fingerprint,
      invite: this.fingerprint && webAddresses[0] ? `${webAddresses[0]}#fp=${this.fingerprint}` : null,
    };
  }

  members(): Member[] {
    return this.#members.list();
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

  // ── connections ────────────────────────────────────────────────────────────

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#gate.spoke(underlyingSocket(req.socket));
    if (!this.#admission.mayUpgrade(req, socket, (address) => this.#unjoinedFrom(address))) return;
    if (this.#stopping) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, underlyingSocket(req.socket)));
  }

  #unjoinedFrom(address: string): number {
    let count = 0;
    for (const connection of this.#connections) {
      if (!connection.member && !connection.refused && connection.address === address) count++;
    }
    return count;
  }

  #accept(ws: WebSocket, socket: Socket): void {
    const connection = newConnection(ws, socket);
    this.#connections.add(connection);
    this.#heartbeat?.add(connection);
    this.#admission.awaitHello(connection);
    const heard = (): void => {
      connection.alive = true;
      connection.lastHeard = Date.now();
    };
    ws.on('pong', heard);
    ws.on('message', (data, isBinary) => {
      heard();
      // Whatever one frame does, it costs at most its own connection, never the host.
      try {
        this.#traffic.receive(connection, isBinary ? null : data.toString());
      } catch (error) {
        this.emit(
          'warning',
          `closed a connection from ${connection.address} after an internal failure: ${String(error)}`,
        );
        this.#replies.refuse(connection, 'BEACON_ERR_INTERNAL');
      }
    });
    // ws reports protocol violations (an oversize frame among them) here and closes by itself.
    ws.on('error', () => {});
    ws.on('close', () => this.#closed(connection));
  }

  #closed(connection: Connection): void {
    this.#connections.delete(connection);
    this.#heartbeat?.remove(connection);
    this.#writer.forget(connection);
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    if (!this.#stopping) this.#members.detach(connection);
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

  /**
   * Warnings from before start() returned (a crash's leftovers found at start-up), emitted once the
   * first 'warning' listener is attached: emitted at once, nobody would have heard them.
   */
  #deliverEarly(warnings: string[]): void {
    if (warnings.length === 0) return;
    // 'newListener' is every EventEmitter's own event, outside RoomServerEvents.
    const emitter = this as unknown as EventEmitter;
    const onListener = (event: string | symbol): void => {
      if (event !== 'warning') return;
      emitter.off('newListener', onListener);
      // 'newListener' comes before the listener is added.
      queueMicrotask(() => {
        for (const message of warnings) this.emit('warning', message);
      });
    };
    emitter.on('newListener', onListener);
  }

  /** Once per heartbeat round: forget what no longer matters, so no table grows without bound. */
  #prune(): void {
    const now = Date.now();
    this.#admission.prune(now);
    this.#rejoins.prune(now);
    this.#members.prune(now);
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
    this.#members.stop();
    const goodbye = encode({
      type: 'goodbye',
      reason: 'BEACON_ERR_HOST_STOPPED',
      message: errorMessage('BEACON_ERR_HOST_STOPPED'),
    });
    const closed = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === WebSocket.CLOSED) return resolve();
          connection.ws.once('close', () => resolve());
          this.#writer.queue(connection, goodbye);
          this.#writer.flushNow(connection);
          connection.ws.close(CLOSE.GOING_AWAY, 'BEACON_ERR_HOST_STOPPED');
          setTimeout(() => connection.ws.terminate(), CLOSE_GRACE_MS).unref();
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => {
      this.#front.close(() => resolve());
      this.#http.closeAllConnections();
      this.#plain?.closeAllConnections();
      // Connections still waiting for their first byte, or in their TLS handshake.
      this.#gate.closeAll();
    });
    this.#http.close();
    this.#plain?.close();
    this.#files?.stop();
    this.#store.close();
  }
}

/**
 * What Node's requestTimeout did for every request before files: a request (a page, /room.json)
 * not received whole within `ms` costs its connection, so a body trickled a byte at a time cannot
 * hold a socket. Only the receiving is timed; a large page may take its time to be sent.
 */
function pageRequestTimer(req: IncomingMessage, ms: number): void {
  const timer = setTimeout(() => req.socket.destroy(), ms);
  timer.unref();
  const received = (): void => clearTimeout(timer);
  req.once('end', received);
  req.once('close', received);
}

/**
 * The TCP socket under a request's socket: the gate counts TCP sockets, and an
 * HTTPS request's socket is the TLS socket wrapped around one (`_parent`, set
 * by Node's TLSSocket for the socket it wraps).
 */
function underlyingSocket(socket: Socket): Socket {
  const parent = (socket as Socket & { _parent?: unknown })._parent;
  return parent instanceof Socket ? parent : socket;
}
