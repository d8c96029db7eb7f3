/**
 * RoomClient: one member's connection to a room, in Node or in a browser.
 * It owns the lifecycle (connect, hello, reconnect with backoff, give up with a
 * reason), the outbox (messages typed while offline are delivered exactly once
 * after reconnecting), resume from the last sequence number, and liveness (a
 * protocol-level ping that measures round-trip time and notices a silent host).
 */
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import type { ConnectionState, MessageStatus, OutgoingMessage } from './chat-api.ts';
import { Emitter } from './emitter.ts';
import { errorForClose, errorMessage, type ErrorCode, isErrorCode, isFinal } from './errors.ts';
import { randomId } from './ids.ts';
import { TokenBucket } from './token-bucket.ts';
import {
  type ChatMessage,
  CLOSE,
  type ClientFrame,
  decodeHostFrames,
  encode,
  type HostFrame,
  type Member,
  type PresenceEvent,
  PROTOCOL_VERSION,
  type WelcomeFrame,
  WIRE_LIMITS,
} from './protocol.ts';

/** The part of a WebSocket the client needs; the browser's WebSocket fits, Node wraps `ws`. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((data: string) => void) | null;
  /** `code` is the close code; `reason` the close reason. */
  onclose: ((code: number, reason: string) => void) | null;
  /** `errorCode` is a system error code such as ECONNREFUSED when the platform tells it. */
  onerror: ((errorCode: string | undefined) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface RoomClientOptions {
  url: string;
  name: string;
  code?: string;
  socketFactory: SocketFactory;
  /** Identity and position from an earlier session (kept in settings). */
  resume?: { token: string; lastSeq: number };
  /** Protocol ping interval; by default the host's (from the welcome). A host silent for two intervals is gone. */
  pingIntervalMs?: number;
  /** Time allowed from opening the socket to the welcome. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Attempts shown as "reconnecting" before the state says "offline" (retries go on in the background). */
  offlineAfterAttempts?: number;
  random?: () => number;
  now?: () => number;
}

export interface HistoryPageEvent {
  conversation: string | undefined;
  messages: ChatMessage[];
  hasMore: boolean;
  direction: 'before' | 'after';
}

export type RoomClientEvents = {
  state: [state: ConnectionState];
  /** `continues` is true when the welcome picks up where this client left off (a resume from a position). */
  welcome: [welcome: WelcomeFrame, continues: boolean];
  message: [message: ChatMessage];
  status: [update: { clientId: string; status: MessageStatus; seq?: number; error?: string }];
  presence: [event: PresenceEvent, member: Member];
  typing: [from: string, to: string | null];
  history: [page: HistoryPageEvent];
  error: [error: { code: ErrorCode; message: string }];
};

const SYSTEM_ERRORS: Record<string, ErrorCode> = {
  ECONNREFUSED: 'BEACON_ERR_REFUSED',
  ECONNRESET: 'BEACON_ERR_NETWORK',
  EHOSTUNREACH: 'BEACON_ERR_UNREACHABLE',
  ENETUNREACH: 'BEACON_ERR_UNREACHABLE',
  EADDRNOTAVAIL: 'BEACON_ERR_UNREACHABLE',
  ETIMEDOUT: 'BEACON_ERR_TIMEOUT',
  ENOTFOUND: 'BEACON_ERR_BAD_ADDRESS',
  EAI_AGAIN: 'BEACON_ERR_UNREACHABLE',
};

export class RoomClient extends Emitter<RoomClientEvents> {
  readonly url: string;
  readonly #options: Required<Omit<RoomClientOptions, 'resume' | 'code'>> & { code: string | undefined };
  #state: ConnectionState = { kind: 'idle' };
  #socket: SocketLike | null = null;
  #token: string | undefined;
  #lastSeq: number;
  #me: Member | null = null;
  #maxMessageBytes = 64 * 1024;
  #hostPingIntervalMs = 5_000;
  /** Failed attempts since the last welcome. */
  #failures = 0;
  #everWelcomed = false;
  #closedByUser = false;
  #lastError: ErrorCode | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #lastHeardAt = 0;
  #pingId = 0;
  #rttMs: number | null = null;
  /** Own messages not yet acknowledged, in the order typed. `inFlight` means written on the current socket. */
  readonly #outbox = new Map<string, OutgoingMessage & { to: string | null; inFlight: boolean }>();
  /** Mirrors the host's rate limit so a long paste is paced, not refused. */
  #bucket = new TokenBucket(20, 40);
  #pumpTimer: ReturnType<typeof setTimeout> | null = null;
  /** While catching up page by page after a resume: live messages already delivered, to skip in the pages. */
  #liveDuringCatchUp: Set<number> | null = null;
  /** The highest sequence number that arrived live during a catch-up. */
  #liveMaxSeq = 0;
  #chosenStatus: 'online' | 'away' = 'online';
  /** The `after` of the catch-up page last asked for, while catching up. */
  #catchUpFrom: number | null = null;
  #welcomedOnSocket = false;
  /** The lastSeq sent in the current hello. */
  #resumedFrom = 0;
  #firstWelcome: { resolve: () => void; reject: (error: { code: ErrorCode; message: string }) => void } | null = null;

  constructor(options: RoomClientOptions) {
    super();
    this.url = options.url;
    this.#options = {
      url: options.url,
      name: options.name,
      code: options.code,
      socketFactory: options.socketFactory,
      pingIntervalMs: options.pingIntervalMs ?? 0,
      connectTimeoutMs: options.connectTimeoutMs ?? 8_000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      offlineAfterAttempts: options.offlineAfterAttempts ?? 4,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.#token = options.resume?.token;
    this.#lastSeq = options.resume?.lastSeq ?? 0;
  }

  get state(): ConnectionState {
    return this.#state;
  }
  get me(): Member | null {
    return this.#me;
  }
  get token(): string | undefined {
    return this.#token;
  }
  get lastSeq(): number {
    return this.#lastSeq;
  }
  get outbox(): OutgoingMessage[] {
    return [...this.#outbox.values()].map((message) => this.#public(message));
  }

  /**
   * Connects and resolves at the first welcome. Before the first welcome a
   * failure is final (the person is looking at the join form and wants the
   * reason); after it, the client keeps reconnecting by itself.
   */
  connect(): Promise<void> {
    this.#closedByUser = false;
    const ready = new Promise<void>((resolve, reject) => {
      this.#firstWelcome = { resolve, reject };
    });
    this.#open();
    return ready;
  }

  /** Skips the backoff wait: for "Retry now", waking from sleep, or the network coming back. */
  retryNow(): void {
    // A socket means an attempt is under way (or the connection is up).
    if (this.#closedByUser || this.#state.kind === 'idle' || this.#socket) return;
    this.#clearTimer('retry');
    this.#open();
  }

  /** Leaves the room on purpose: others see "left" at once, not "reconnecting". */
  close(): void {
    this.#closedByUser = true;
    this.#clearTimer('retry');
    const socket = this.#socket;
    if (socket && this.#state.kind === 'connected') this.#write({ type: 'leave' });
    this.#teardown(socket, CLOSE.NORMAL, 'leave');
    this.#firstWelcome?.reject({ code: 'BEACON_ERR_CANCELLED', message: errorMessage('BEACON_ERR_CANCELLED') });
    this.#firstWelcome = null;
    this.#setState({ kind: 'idle' });
  }

  // ── commands ───────────────────────────────────────────────────────────────

  /** Queues a message; it is sent now if connected, otherwise after reconnecting. */
  send(text: string, to: string | null, conversation: string): OutgoingMessage {
    const clientId = randomId('c_');
    const message = {
      clientId,
      conversation,
      text,
      ts: this.#options.now(),
      status: 'pending' as const,
      to,
      inFlight: false,
    };
    const size = new TextEncoder().encode(encode({ type: 'send', clientId, to, text })).length;
    if (text.trim().length === 0) return this.#failNow(message, 'BEACON_ERR_EMPTY');
    if (!text.isWellFormed()) return this.#failNow(message, 'BEACON_ERR_BAD_TEXT');
    if (size > this.#maxMessageBytes || text.length > WIRE_LIMITS.textChars) {
      return this.#failNow(message, 'BEACON_ERR_TOO_LARGE');
    }
    this.#outbox.set(clientId, message);
    this.#pump();
    return this.#public(message);
  }

  /** Sends a failed message again. */
  retry(clientId: string): boolean {
    const message = this.#outbox.get(clientId);
    if (!message || message.status !== 'failed') return false;
    message.status = 'pending';
    message.inFlight = false;
    delete message.error;
    this.emit('status', { clientId, status: 'pending' });
    this.#pump();
    return true;
  }

  /** Best effort: dropped rather than delayed when the rate budget is spent. */
  typing(to: string | null): void {
    if (this.#state.kind === 'connected' && this.#bucket.take(this.#options.now()).ok)
      this.#write({ type: 'typing', to });
  }

  /** Remembered, and said again after every reconnect (a restarted host knows nothing of it). */
  setStatus(status: 'online' | 'away'): void {
    this.#chosenStatus = status;
    if (this.#state.kind === 'connected') this.#write({ type: 'status', status });
  }

  /** Asks for older messages; the page arrives as a 'history' event. */
  loadOlder(conversation: string | undefined, before: number, limit = 100): void {
    if (this.#state.kind !== 'connected') return;
    this.#write({ type: 'history', before, limit, ...(conversation === undefined ? {} : { conversation }) });
  }

  #failNow(message: OutgoingMessage & { to: string | null }, code: ErrorCode): OutgoingMessage {
    return this.#public({ ...message, status: 'failed', error: errorMessage(code) });
  }

  #public({ clientId, conversation, text, ts, status, error }: OutgoingMessage): OutgoingMessage {
    return { clientId, conversation, text, ts, status, ...(error === undefined ? {} : { error }) };
  }

  /** Writes pending messages in order, as fast as the room's rate limit allows. */
  #pump(): void {
    if (this.#pumpTimer || this.#state.kind !== 'connected') return;
    for (const message of this.#outbox.values()) {
      if (message.status !== 'pending' || message.inFlight) continue;
      const token = this.#bucket.take(this.#options.now());
      if (!token.ok) {
        this.#pumpTimer = setTimeout(() => {
          this.#pumpTimer = null;
          this.#pump();
        }, token.retryAfterMs);
        return;
      }
      message.inFlight = true;
      this.#write({ type: 'send', clientId: message.clientId, to: message.to, text: message.text });
    }
  }

  // ── the connection ─────────────────────────────────────────────────────────

  #open(): void {
    this.#lastError = null;
    // While reconnecting, the state keeps saying why (and which attempt) instead of flipping to "connecting".
    const state = this.#state;
    this.#welcomedOnSocket = false;
    if (state.kind === 'reconnecting' || state.kind === 'offline') {
      if (state.nextRetryAt === null || state.nextRetryAt > this.#options.now()) {
        this.#setState({ ...state, nextRetryAt: this.#options.now() });
      }
    } else {
      this.#setState({ kind: 'connecting', address: this.url, attempt: this.#failures + 1 });
    }
    let socket: SocketLike;
    try {
      socket = this.#options.socketFactory(this.url);
    } catch {
      this.#failed('BEACON_ERR_BAD_ADDRESS');
      return;
    }
    this.#socket = socket;
    this.#connectTimer = setTimeout(() => {
      this.#teardown(socket);
      this.#failed('BEACON_ERR_TIMEOUT');
    }, this.#options.connectTimeoutMs);
    socket.onopen = () => {
      const resume = this.#token ? { token: this.#token, lastSeq: this.#lastSeq } : undefined;
      this.#resumedFrom = resume?.lastSeq ?? 0;
      this.#write({
        type: 'hello',
        v: PROTOCOL_VERSION,
        name: this.#options.name,
        ...(this.#options.code ? { code: this.#options.code } : {}),
        ...(resume ? { resume } : {}),
      });
    };
    socket.onmessage = (data) => {
      this.#lastHeardAt = this.#options.now();
      for (const decoded of decodeHostFrames(data)) {
        // Unknown or malformed frames from a newer host are skipped, not fatal.
        if (!decoded.ok) continue;
        // Nothing a host (or anyone in the middle) sends may break the client: one frame costs only itself.
        try {
          this.#handle(decoded.frame);
        } catch (error) {
          this.emit('error', {
            code: 'BEACON_ERR_INTERNAL',
            message: `${errorMessage('BEACON_ERR_INTERNAL')} (${String(error)})`,
          });
        }
      }
    };
    socket.onerror = (errorCode) => {
      if (errorCode && SYSTEM_ERRORS[errorCode]) this.#lastError ??= SYSTEM_ERRORS[errorCode];
    };
    socket.onclose = (code, reason) => {
      if (this.#socket !== socket) return;
      this.#teardown(socket);
      this.#failed(this.#closeReason(code, reason));
    };
  }

  #closeReason(code: number, reason: string): ErrorCode {
    if (isErrorCode(reason)) return reason;
    const byClose = errorForClose(code);
    if (byClose && isFinal(byClose)) return byClose;
    if (this.#lastError) return this.#lastError;
    if (byClose) return byClose;
    // A browser tells nothing about a refused connection: 1006 before any welcome.
    return this.#state.kind === 'connecting' && !this.#everWelcomed ? 'BEACON_ERR_REFUSED' : 'BEACON_ERR_NETWORK';
  }

  /** Decides what follows a lost or refused connection: retry with backoff, or stop with the reason. */
  #failed(reason: ErrorCode): void {
    if (this.#closedByUser) return;
    const reasonText = errorMessage(reason);
    if (!this.#everWelcomed || isFinal(reason)) {
      this.#setState({ kind: 'offline', address: this.url, reason, reasonText, nextRetryAt: null });
      this.#firstWelcome?.reject({ code: reason, message: reasonText });
      this.#firstWelcome = null;
      return;
    }
    this.#failures += 1;
    const delay = backoffDelay(this.#failures, this.#options.backoff, this.#options.random);
    const nextRetryAt = this.#options.now() + delay;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
    if (this.#failures > this.#options.offlineAfterAttempts) {
      this.#setState({ kind: 'offline', address: this.url, reason, reasonText, nextRetryAt });
    } else {
      this.#setState({
        kind: 'reconnecting',
        address: this.url,
        attempt: this.#failures,
        nextRetryAt,
        reason,
        reasonText,
      });
    }
  }

  #teardown(socket: SocketLike | null, code: number = CLOSE.NORMAL, reason = ''): void {
    this.#clearTimer('connect');
    this.#clearTimer('ping');
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    // Whatever was written on this socket may or may not have arrived: resend it (the host dedupes).
    for (const message of this.#outbox.values()) message.inFlight = false;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    if (this.#socket === socket) this.#socket = null;
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened can throw in some runtimes; it is gone either way.
    }
  }

  #clearTimer(which: 'retry' | 'connect' | 'ping'): void {
    if (which === 'retry' && this.#retryTimer) clearTimeout(this.#retryTimer);
    if (which === 'connect' && this.#connectTimer) clearTimeout(this.#connectTimer);
    if (which === 'ping' && this.#pingTimer) clearInterval(this.#pingTimer);
    if (which === 'retry') this.#retryTimer = null;
    if (which === 'connect') this.#connectTimer = null;
    if (which === 'ping') this.#pingTimer = null;
  }

  #startPinging(): void {
    const interval = this.#options.pingIntervalMs || this.#hostPingIntervalMs;
    this.#lastHeardAt = this.#options.now();
    this.#pingTimer = setInterval(() => {
      if (this.#options.now() - this.#lastHeardAt > 2 * interval) {
        // The host went silent (crashed machine, pulled cable): do not wait for TCP to notice.
        const socket = this.#socket;
        this.#teardown(socket);
        this.#failed('BEACON_ERR_NETWORK');
        return;
      }
      this.#write({ type: 'ping', id: ++this.#pingId, t: this.#options.now() });
    }, interval);
  }

  #write(frame: ClientFrame): void {
    this.#socket?.send(encode(frame));
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.emit('state', state);
  }

  // ── frames from the host ───────────────────────────────────────────────────

  #handle(frame: HostFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.#welcome(frame);
        return;
      case 'message':
        this.#received(frame.message);
        return;
      case 'ack':
        this.#acknowledged(frame.clientId, frame.seq);
        return;
      case 'presence':
        this.emit('presence', frame.event, frame.member);
        return;
      case 'typing':
        this.emit('typing', frame.from, frame.to);
        return;
      case 'history':
        this.#historyPage(frame);
        return;
      case 'pong':
        this.#rttMs = Math.max(0, this.#options.now() - frame.t);
        if (this.#state.kind === 'connected') this.#setState({ ...this.#state, rttMs: this.#rttMs });
        return;
      case 'error':
        this.#hostError(frame.code, frame.message, frame.ref, frame.retryAfterMs);
        return;
      case 'goodbye':
        this.#lastError = 'BEACON_ERR_HOST_STOPPED';
        return;
    }
  }

  #historyPage(frame: Extract<HostFrame, { type: 'history' }>): void {
    for (const message of frame.messages) this.#noteOwn(message);
    let messages = frame.messages;
    if (frame.direction === 'after') {
      const pageEnd = messages.at(-1)?.seq;
      for (const message of messages) this.#lastSeq = Math.max(this.#lastSeq, message.seq);
      const live = this.#liveDuringCatchUp;
      if (live) messages = messages.filter((message) => !live.has(message.seq));
      // Page on from this page's end, not from what arrived live meanwhile (that is past the gap).
      if (frame.hasMore && pageEnd !== undefined) {
        this.#catchUpFrom = pageEnd;
        this.#write({ type: 'history', after: pageEnd, limit: 500 });
      } else {
        this.#liveDuringCatchUp = null;
        this.#catchUpFrom = null;
        this.#lastSeq = Math.max(this.#lastSeq, this.#liveMaxSeq);
        this.#liveMaxSeq = 0;
      }
    }
    this.emit('history', {
      conversation: frame.conversation,
      messages,
      hasMore: frame.hasMore,
      direction: frame.direction,
    });
  }

  #welcome(welcome: WelcomeFrame): void {
    this.#clearTimer('connect');
    const welcomedBefore = this.#everWelcomed;
    this.#welcomedOnSocket = true;
    const identityChanged = this.#token !== undefined && !welcome.resumed;
    this.#token = welcome.token;
    this.#me = welcome.you;
    this.#maxMessageBytes = welcome.limits.maxMessageBytes;
    this.#hostPingIntervalMs = welcome.limits.pingIntervalMs;
    // A host that lost its history (a new data folder) starts counting again.
    if (identityChanged || welcome.lastSeq < this.#lastSeq) {
      this.#lastSeq = 0;
      this.#liveMaxSeq = 0;
      this.#liveDuringCatchUp = null;
    }
    for (const message of welcome.history) {
      this.#noteOwn(message);
      this.#lastSeq = Math.max(this.#lastSeq, message.seq);
    }
    if (!welcome.resumed || welcome.history.length === 0) this.#lastSeq = Math.max(this.#lastSeq, welcome.lastSeq);
    this.#failures = 0;
    this.#everWelcomed = true;
    this.#setState({ kind: 'connected', address: this.url, rttMs: this.#rttMs });
    // A welcome continues this client's session when it resumed it: from a position, or (in an empty
    // room) after an earlier welcome. Otherwise hasMore means "older messages exist", not "more missed".
    const continues = welcome.resumed && (this.#resumedFrom > 0 || welcomedBefore);
    this.emit('welcome', welcome, continues);
    const pageEnd = welcome.history.at(-1)?.seq;
    // A catch-up cut short by another drop keeps what it already delivered live, so pages skip it.
    const carried = this.#liveDuringCatchUp;
    this.#liveDuringCatchUp = null;
    this.#catchUpFrom = null;
    if (continues && this.#resumedFrom > 0 && welcome.hasMore && pageEnd !== undefined) {
      this.#liveDuringCatchUp = carried ?? new Set();
      this.#catchUpFrom = pageEnd;
      this.#write({ type: 'history', after: pageEnd, limit: 500 });
    } else {
      this.#lastSeq = Math.max(this.#lastSeq, this.#liveMaxSeq);
      this.#liveMaxSeq = 0;
    }
    // The host may still remember an older choice (or none, after a restart): say the current one.
    if (welcome.you.status !== 'reconnecting' && welcome.you.status !== this.#chosenStatus) {
      this.#write({ type: 'status', status: this.#chosenStatus });
    }
    // A little under the host's rate, so clocks drifting apart never trip its limit.
    this.#bucket = new TokenBucket(
      welcome.limits.messagesPerSecond * 0.9,
      Math.max(1, welcome.limits.messageBurst - 5),
    );
    this.#pump();
    this.#startPinging();
    this.#firstWelcome?.resolve();
    this.#firstWelcome = null;
  }

  #received(message: ChatMessage): void {
    this.#liveDuringCatchUp?.add(message.seq);
    this.#advance(message.seq);
    this.#noteOwn(message);
    this.emit('message', message);
  }

  /** A stored message of ours whose ack was lost (the connection dropped first) counts as its ack. */
  #noteOwn(message: ChatMessage): void {
    if (this.#me && message.from === this.#me.id && this.#outbox.has(message.clientId)) {
      this.#acknowledged(message.clientId, message.seq);
    }
  }

  /**
   * Moves the resume position forward. While catching up, live messages are
   * past the gap still being fetched: resuming from them after another drop
   * would skip the gap, so they only count once the catch-up is done.
   */
  #advance(seq: number): void {
    if (this.#liveDuringCatchUp) this.#liveMaxSeq = Math.max(this.#liveMaxSeq, seq);
    else this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  #acknowledged(clientId: string, seq: number): void {
    this.#advance(seq);
    if (!this.#outbox.delete(clientId)) return;
    this.emit('status', { clientId, status: 'sent', seq });
  }

  #hostError(code: string, message: string, ref: string | undefined, retryAfterMs: number | undefined): void {
    const known: ErrorCode = isErrorCode(code) ? code : 'BEACON_ERR_INTERNAL';
    const outgoing = ref ? this.#outbox.get(ref) : undefined;
    if (outgoing && known === 'BEACON_ERR_RATE_LIMITED') {
      // Throttled, not refused: send it again when the host says there is room.
      setTimeout(() => {
        outgoing.inFlight = false;
        this.#pump();
      }, retryAfterMs ?? 1_000);
      return;
    }
    if (outgoing) {
      outgoing.status = 'failed';
      outgoing.error = message;
      this.emit('status', { clientId: outgoing.clientId, status: 'failed', error: message });
      return;
    }
    // Before the welcome an error explains the close that follows; after it, it is news for the person.
    if (!this.#welcomedOnSocket) this.#lastError = known;
    if (known === 'BEACON_ERR_RATE_LIMITED' && this.#catchUpFrom !== null) {
      // A throttled catch-up request is asked again, or the resume position would stay frozen.
      const from = this.#catchUpFrom;
      setTimeout(() => {
        if (this.#catchUpFrom === from) this.#write({ type: 'history', after: from, limit: 500 });
      }, retryAfterMs ?? 1_000);
      return;
    }
    this.emit('error', { code: known, message });
  }
}
