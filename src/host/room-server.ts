/**
 * A chat room on plain Node: an HTTP server that serves the web client and
 * upgrades WebSocket connections, handing each connection to admission (until
 * it has joined) and to the room's traffic (after), with a heartbeat that cuts
 * the silent. Its parts: Admission, Members, RoomTraffic, TickWriter, and the
 * history store, which nothing outside the host touches.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { HostInfo } from '../shared/chat-api.ts';
import { BeaconError, errorMessage } from '../shared/errors.ts';
import { CLOSE, encode, type Member, type PresenceEvent } from '../shared/protocol.ts';
import { Admission } from './admission.ts';
import { type Connection, newConnection, Replies } from './connection.ts';
import { ConnectionGate } from './connection-gate.ts';
import { Heartbeat } from './heartbeat.ts';
import { formatHostPort, shareableHosts } from './lan-addresses.ts';
import { Members } from './members.ts';
import { DEFAULT_LIMITS, DEFAULT_ROOM_NAME, type RoomLimits, type RoomServerOptions } from './options.ts';
import { RejoinThrottle } from './rejoin-throttle.ts';
import { RoomTraffic } from './room-traffic.ts';
import { HistoryStore } from './store/history-store.ts';
import { TickWriter } from './tick-writer.ts';
import { webFilesHandler } from './web-files.ts';

/** The heartbeat round is split into this many slices over the ping interval. */
const HEARTBEAT_SLICES = 10;
/** How often identities nobody needs are looked for in the store. */
const IDENTITY_PRUNE_INTERVAL_MS = 60 * 60_000;
/** Addresses whose join rate and penalties are remembered at most. */
const MAX_THROTTLED_ADDRESSES = 50_000;
/** How often Node's HTTP server looks for requests past their timeouts. */
const HTTP_TIMEOUT_CHECK_MS = 1_000;
/** A member that does not read the goodbye and close in this time is cut. */
const CLOSE_GRACE_MS = 1_000;

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
  readonly #store: HistoryStore;
  readonly #bind: string | undefined;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #gate: ConnectionGate;
  readonly #rejoins: RejoinThrottle;
  readonly #writer: TickWriter;
  readonly #members: Members;
  readonly #admission: Admission;
  readonly #traffic: RoomTraffic;
  readonly #replies: Replies;
  readonly #connections = new Set<Connection>();
  #port = 0;
  #heartbeat: Heartbeat<Connection> | null = null;
  #identityPruner: ReturnType<typeof setInterval> | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(options: RoomServerOptions, store: HistoryStore) {
    super();
    const limits = (this.limits = { ...DEFAULT_LIMITS, ...options.limits });
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
    this.#admission = new Admission({
      limits,
      code: this.code,
      roomName: this.roomName,
      bind: this.#bind,
      port: () => this.#port,
      store,
      members: this.#members,
      writer: this.#writer,
      replies,
      rejoins: this.#rejoins,
      onJoined: (connection) => this.#gate.joined(connection.socket),
    });
    this.#traffic = new RoomTraffic({
      limits,
      store,
      members: this.#members,
      admission: this.#admission,
      writer: this.#writer,
      replies,
      rejoins: this.#rejoins,
      warn: (message) => this.emit('warning', message),
    });
    this.#http = createServer(
      {
        // Slow or silent HTTP clients are cut quickly: each one holds a socket.
        headersTimeout: limits.handshakeTimeoutMs,
        requestTimeout: 2 * limits.handshakeTimeoutMs,
        connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_MS,
      },
      webFilesHandler(options.webRoot, { name: this.roomName, codeRequired: this.code !== null }),
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
      fingerprint: null,
      invite: null,
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
    this.#gate.spoke(req.socket);
    if (!this.#admission.mayUpgrade(req, socket, (address) => this.#unjoinedFrom(address))) return;
    if (this.#stopping) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req.socket));
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
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    this.#store.close();
  }
}
