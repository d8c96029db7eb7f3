/**
 * RoomClient: one member's connection to a room, in Node or in a browser.
 * It owns the lifecycle (connect, hello, reconnect with backoff, give up with a
 * reason) and routes what arrives to its parts: the Outbox (messages typed
 * while offline are delivered exactly once after reconnecting), the
 * ResumeCursor (resume from the last sequence number, catch up page by page),
 * PendingRequests (v1.5 edits, deletions, reactions, channel changes and
 * searches, v1.6 member pages and watches, each answered by the frame that echoes its ref) and
 * Liveness (round-trip time; a silent host counts as gone).
 */
import { type BackoffOptions, DEFAULT_BACKOFF, ReconnectSchedule } from './backoff.ts';
import type { ConnectionSecurity, ConnectionState, MessageStatus, OutgoingMessage } from './chat-api.ts';
import { Emitter } from './emitter.ts';
import { errorMessage, type ErrorCode, isErrorCode, isFinal } from './errors.ts';
import { Liveness } from './liveness.ts';
import { pageOfMembers } from './member-order.ts';
import { Outbox, type SendExtras } from './outbox.ts';
import { PendingRequests } from './pending-requests.ts';
import type { Result } from './chat-api.ts';
import {
  type Channel,
  type ChannelRequestFrame,
  type ChatMessage,
  CLOSE,
  type ClientFrame,
  decodeHostFrames,
  DEFAULT_CHANNEL,
  DEFAULT_HISTORY_PAGE,
  DEFAULT_ROOM_LIMITS,
  encode,
  FEATURES,
  type FileRef,
  type HostFrame,
  type Member,
  type MembersRequestFrame,
  type Names,
  type PresenceEvent,
  PROTOCOL_VERSION,
  type SearchHit,
  type SearchRequestFrame,
  type Update,
  type WelcomeFrame,
  WIRE_LIMITS,
} from './protocol.ts';
import { ResumeCursor } from './resume-cursor.ts';
import {
  errorForSystemCode,
  type HostFingerprints,
  reasonForClose,
  type SocketFactory,
  type SocketLike,
  type SocketOptions,
} from './room-socket.ts';

export type { HostFingerprints, SocketFactory, SocketLike, SocketOptions } from './room-socket.ts';

/** The fingerprint a host must show, and how it came to be known. */
export type HostPin = NonNullable<SocketOptions['pin']>;

export interface RoomClientOptions {
  url: string;
  name: string;
  code?: string;
  socketFactory: SocketFactory;
  /** Identity and position from an earlier visit to the room (kept in settings). */
  resume?: { token: string; lastSeq: number };
  /**
   * The fingerprint the host must show (from an invite, or remembered from an earlier visit).
   * Without one, the first encrypted host that answers is trusted, and pinned for every reconnect
   * of this client.
   */
  pin?: HostPin;
  /** Protocol ping interval; by default the host's (from the welcome). A host silent for two intervals is gone. */
  pingIntervalMs?: number;
  /** Time allowed from opening the socket to the welcome. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Attempts shown as "reconnecting" before the state says "offline" (retries go on in the background). */
  offlineAfterAttempts?: number;
  random?: () => number;
  now?: () => number;
  /** How long the host has to answer an edit, deletion, reaction, channel change or search (v1.5). */
  requestTimeoutMs?: number;
}

export interface HistoryPageEvent {
  conversation: string | undefined;
  messages: ChatMessage[];
  hasMore: boolean;
  direction: 'before' | 'after';
  /** Names of the people on the page, when the host sends them (v1.1). */
  names: Record<string, string>;
  /**
   * v1.5, a catch-up page ('after'): the updates of the same span of seqs, oldest first, without
   * those already delivered live (or overtaken by one delivered live).
   */
  updates: Update[];
}

/** What the host answered a request that changes something (v1.5 `done`). */
export interface DoneAnswer {
  /** The seq of the update it made (or the target's own, when nothing changed). */
  seq: number;
  /** For a channel request: the channel as it now stands. */
  channel?: Channel;
}

/** A search as asked (v1.5), without the ref RoomClient adds. */
export type SearchQuery = Omit<SearchRequestFrame, 'type' | 'ref'>;

/** What the host answered a search (v1.5). */
export interface SearchAnswerFrame {
  hits: SearchHit[];
  hasMore: boolean;
  names: Names;
}

/**
 * Members a host may claim (v1.6): no request pages past offset 10^6, and an interface draws one row
 * per member it is told of, so a hostile host's 2^32 would crash it (an array too long) or exhaust it.
 */
const MAX_LISTED_MEMBERS = 1_000_000 + WIRE_LIMITS.membersPage;

const saneCounts = (total: number, online: number): { total: number; online: number } => {
  const capped = Math.min(total, MAX_LISTED_MEMBERS);
  return { total: capped, online: Math.min(online, capped) };
};

/** The first of each id. */
const onceEach = (members: readonly Member[]): Member[] => {
  const seen = new Set<string>();
  return members.filter((member) => !seen.has(member.id) && seen.add(member.id));
};

/** A page of the member list as asked (v1.6), without the ref RoomClient adds. */
export type MembersQuery = Omit<MembersRequestFrame, 'type' | 'ref'>;

/** What the host answered `members` or `watch` (v1.6): `members` from position `offset` of `total`. */
export interface MembersPageAnswer {
  members: Member[];
  offset: number;
  total: number;
}

/** The room's counts (v1.6 `roster`); `complete`: every member's presence arrives. */
export interface RosterCounts {
  total: number;
  online: number;
  complete: boolean;
}

/** A channel request (v1.5) as asked, without the ref RoomClient adds. */
export type ChannelChange = Omit<ChannelRequestFrame, 'type' | 'ref'>;

export type RoomClientEvents = {
  state: [state: ConnectionState];
  /** `continues` is true when the welcome picks up where this client left off (a resume from a position). */
  welcome: [welcome: WelcomeFrame, continues: boolean];
  message: [message: ChatMessage];
  status: [update: { clientId: string; status: MessageStatus; seq?: number; error?: string; files?: FileRef[] }];
  presence: [event: PresenceEvent, member: Member];
  /** `channel`: typing in a channel of the room (v1.5); absent for the default channel. */
  typing: [from: string, to: string | null, channel?: string];
  /**
   * v1.5: an edit, deletion, reaction or channel change that happened live. (Those missed while
   * away come with the welcome, as its `updates`, and with catch-up pages.)
   */
  update: [update: Update];
  history: [page: HistoryPageEvent];
  /** v1.6: the room's counts changed (at most once per rosterIntervalMs). */
  roster: [counts: RosterCounts];
  /**
   * v1.6: the watched members as they are now, answered to the watch set sent again after a
   * reconnect (the host forgets it with the connection).
   */
  watched: [members: Member[]];
  error: [error: { code: ErrorCode; message: string }];
};

/** Time from opening a socket to the welcome, unless told otherwise. */
export const CONNECT_TIMEOUT_MS = 8_000;
/** Attempts shown as "reconnecting" before the state says "offline". */
const OFFLINE_AFTER_ATTEMPTS = 4;
/** What an attempt finds while a stopped host is still away: nothing listening, or no answer. */
const HOST_ABSENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BEACON_ERR_HOST_STOPPED',
  'BEACON_ERR_REFUSED',
  'BEACON_ERR_NETWORK',
  'BEACON_ERR_TIMEOUT',
  'BEACON_ERR_UNREACHABLE',
]);
/** A throttled request without a retryAfterMs is asked again after this. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export class RoomClient extends Emitter<RoomClientEvents> {
  readonly url: string;
  readonly #options: Required<Omit<RoomClientOptions, 'resume' | 'code' | 'pin' | 'requestTimeoutMs'>> & {
    code: string | undefined;
  };
  readonly #outbox: Outbox;
  readonly #cursor: ResumeCursor;
  readonly #requests: PendingRequests;
  readonly #liveness: Liveness;
  readonly #reconnects: ReconnectSchedule;
  #state: ConnectionState = { kind: 'idle' };
  #socket: SocketLike | null = null;
  #token: string | undefined;
  #me: Member | null = null;
  #hostPingIntervalMs: number = DEFAULT_ROOM_LIMITS.pingIntervalMs;
  /** What the host said it can do in its latest welcome (v1.5); none for an older host. */
  #hostFeatures: ReadonlySet<string> = new Set();
  /** Some connection of this client was welcomed: from then on, a lost connection is retried by itself. */
  #hasBeenWelcomed = false;
  /** The current socket was welcomed: an error frame is news, not the reason for a close that follows. */
  #socketWelcomed = false;
  #leftOnPurpose = false;
  /** The reason the current attempt is failing, when the host or the platform told it before the close. */
  #knownReason: ErrorCode | null = null;
  /** When the host said how long it will refuse (a lockout), before the close that follows. */
  #knownRetryAfterMs: number | null = null;
  /** With BEACON_ERR_HOST_CHANGED: what was expected and what answered. */
  #knownFingerprints: HostFingerprints | null = null;
  #pin: HostPin | null;
  /** How the current (or last) connection was protected, once it opened. */
  #security: ConnectionSecurity | undefined;
  /** The host said goodbye (it was stopped): until a welcome, every failure is reported as that, quietly retried. */
  #hostStopped = false;
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #chosenStatus: 'online' | 'away' = 'online';
  /**
   * Every member this client knows of (the welcome's list and presence since): from a host that
   * does not page members (older than v1.6) that is the whole room, and `members` pages it here.
   */
  readonly #known = new Map<string, Member>();
  /** The latest welcome carried memberCount: the host pages members and answers watch (v1.6). */
  #hostPagesMembers = false;
  /** The room's counts from the welcome and each roster since; null from an older host. */
  #memberCount: { total: number; online: number } | null = null;
  /** Only part of the room is known (welcome.membersPartial, or a roster that is not complete). */
  #membersPartial = false;
  /** The ids of the last `watch`: said again after every reconnect (the host forgot them). */
  #watched: string[] = [];
  /** The promise `connect()` returned, settled by the first welcome or the first failure. */
  #firstWelcome: {
    resolve: () => void;
    reject: (error: { code: ErrorCode; message: string; retryAfterMs?: number }) => void;
  } | null = null;

  constructor(options: RoomClientOptions) {
    super();
    this.url = options.url;
    this.#options = {
      url: options.url,
      name: options.name,
      code: options.code,
      socketFactory: options.socketFactory,
      pingIntervalMs: options.pingIntervalMs ?? 0,
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      offlineAfterAttempts: options.offlineAfterAttempts ?? OFFLINE_AFTER_ATTEMPTS,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.#token = options.resume?.token;
    this.#pin = options.pin ?? null;
    this.#reconnects = new ReconnectSchedule(this.#options);
    this.#cursor = new ResumeCursor(options.resume?.lastSeq ?? 0);
    this.#requests = new PendingRequests(options.requestTimeoutMs);
    this.#outbox = new Outbox({ write: (frame) => this.#socket?.send(frame), now: this.#options.now });
    this.#liveness = new Liveness({
      now: this.#options.now,
      ping: (id, t) => this.#write({ type: 'ping', id, t }),
      onSilent: () => this.#lost(this.#socket, 'BEACON_ERR_NETWORK'),
    });
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
    return this.#cursor.position;
  }
  get outbox(): OutgoingMessage[] {
    return this.#outbox.list();
  }
  /** What the host can do (v1.5 welcome `features`: 'channels', 'edits', 'search', …); empty for an older host. */
  get hostFeatures(): ReadonlySet<string> {
    return this.#hostFeatures;
  }
  /** v1.6: how many are in the room, as the host last said; null from an older host (count the members). */
  get memberCount(): { total: number; online: number } | null {
    return this.#memberCount;
  }
  /** v1.6: the members this client knows are only part of the room (page the rest with `members`). */
  get membersPartial(): boolean {
    return this.#membersPartial;
  }
  /** The fingerprint every connection of this client must find: given, or trusted on first use. */
  get pin(): HostPin | null {
    return this.#pin;
  }

  /**
   * Connects and resolves at the first welcome. Before the first welcome a
   * failure is final (the person is looking at the join form and wants the
   * reason); after it, the client keeps reconnecting by itself.
   */
  connect(): Promise<void> {
    this.#leftOnPurpose = false;
    const ready = new Promise<void>((resolve, reject) => {
      this.#firstWelcome = { resolve, reject };
    });
    this.#open();
    return ready;
  }

  /** Skips the backoff wait: for "Retry now", waking from sleep, or the network coming back. */
  retryNow(): void {
    // A socket means an attempt is under way (or the connection is up).
    if (this.#leftOnPurpose || this.#state.kind === 'idle' || this.#socket) return;
    this.#reconnects.cancel();
    this.#open();
  }

  /**
   * A new join code (the host restarted with another one): the next attempt
   * uses it, and it starts now. The old code is never sent again.
   */
  retryWithCode(code: string): void {
    this.#options.code = code;
    this.retryNow();
  }

  /** Leaves the room on purpose: others see "left" at once, not "reconnecting". */
  close(): void {
    this.#leftOnPurpose = true;
    this.#reconnects.cancel();
    const socket = this.#socket;
    if (socket && this.#state.kind === 'connected') this.#write({ type: 'leave' });
    this.#teardown(socket, CLOSE.NORMAL, 'leave');
    this.#firstWelcome?.reject({ code: 'BEACON_ERR_CANCELLED', message: errorMessage('BEACON_ERR_CANCELLED') });
    this.#firstWelcome = null;
    this.#setState({ kind: 'idle' });
  }

  // ── commands ───────────────────────────────────────────────────────────────

  /**
   * Queues a message; it is sent now if connected, otherwise after reconnecting. With `transfers`
   * (its files' uploads) it waits until `sendWithFiles`.
   */
  send(
    text: string,
    to: string | null,
    conversation: string,
    transfers?: string[],
    extras: SendExtras = {},
  ): OutgoingMessage {
    return this.#outbox.add(text, to, conversation, transfers, extras);
  }

  /** A waiting message's files are uploaded: it goes with their ids, exactly once however often it is resent. */
  sendWithFiles(clientId: string, fileIds: string[]): void {
    if (this.#outbox.release(clientId, fileIds)) return;
    const failed = this.#outbox.list().find((message) => message.clientId === clientId && message.status === 'failed');
    if (failed) this.emit('status', { clientId, status: 'failed', ...(failed.error ? { error: failed.error } : {}) });
  }

  /** A waiting message cannot go for now (an upload of its files failed): failed until retried. */
  failWaiting(clientId: string, error: string): void {
    if (this.#outbox.fail(clientId, error)) this.emit('status', { clientId, status: 'failed', error });
  }

  /** A waiting message will never go (its files were cancelled): it leaves the outbox. */
  withdraw(clientId: string): boolean {
    return this.#outbox.remove(clientId);
  }

  /** Sends a failed message again. */
  retry(clientId: string): boolean {
    if (!this.#outbox.retry(clientId)) return false;
    this.emit('status', { clientId, status: 'pending' });
    return true;
  }

  /** Best effort: dropped rather than delayed when the rate budget is spent. */
  typing(to: string | null, channel?: string): void {
    const inChannel = to === null && channel !== undefined && channel !== DEFAULT_CHANNEL ? { channel } : {};
    if (this.#outbox.takeForTyping()) this.#write({ type: 'typing', to, ...inChannel });
  }

  // ── requests (v1.5): answered by the host, never queued while offline ──────

  /** Edits one of this member's messages; the edit itself arrives as an update. */
  edit(target: number, text: string, mentions?: string[]): Promise<Result<DoneAnswer>> {
    const listed = mentions && mentions.length > 0 ? { mentions: [...new Set(mentions)] } : {};
    return this.#change('edits', (ref) => ({ type: 'edit', ref, target, text, ...listed }));
  }

  /** Deletes one of this member's messages. */
  deleteMessage(target: number): Promise<Result<DoneAnswer>> {
    return this.#change('edits', (ref) => ({ type: 'delete', ref, target }));
  }

  /** Adds (`on`) or takes back this member's `emoji` on a message. */
  react(target: number, emoji: string, on: boolean): Promise<Result<DoneAnswer>> {
    return this.#change('reactions', (ref) => ({ type: 'react', ref, target, emoji, on }));
  }

  /** Creates, renames, re-topics, archives or brings back a channel. */
  channel(change: ChannelChange): Promise<Result<DoneAnswer>> {
    return this.#change('channels', (ref) => ({ type: 'channel', ref, ...change }));
  }

  /** Searches what this member may see; the newest hits first. */
  async search(query: SearchQuery): Promise<Result<SearchAnswerFrame>> {
    const refusal = this.#refusal('search');
    if (refusal) return refusal;
    return this.#requests.start<SearchAnswerFrame>('searchResults', (ref) =>
      this.#write({ type: 'search', ref, ...query }),
    );
  }

  // ── the member list (v1.6) ─────────────────────────────────────────────────

  /**
   * A page of the member list in name order. A host that pages members is asked; an older one sent
   * the whole room, so the page is cut from this client's own list (the same order, the same query
   * rules): the interface works the same either way.
   */
  async members(query: MembersQuery = {}): Promise<Result<MembersPageAnswer>> {
    if (this.#state.kind !== 'connected') return offline();
    if (!this.#hostPagesMembers) return { ok: true, value: pageOfMembers(this.#known.values(), query) };
    return this.#requests.start<MembersPageAnswer>('membersPage', (ref) =>
      this.#write({ type: 'members', ref, ...query }),
    );
  }

  /**
   * Asks for the presence of `ids` (the rows on screen) in place of the last set, and answers with
   * those of them in the room now. The set is kept even while offline, and said again after every
   * reconnect.
   */
  async watch(ids: readonly string[]): Promise<Result<MembersPageAnswer>> {
    this.#watched = [...new Set(ids)].slice(0, WIRE_LIMITS.membersPage);
    if (this.#state.kind !== 'connected') return offline();
    return this.#sendWatch();
  }

  #sendWatch(): Promise<Result<MembersPageAnswer>> {
    const ids = this.#watched;
    if (!this.#hostPagesMembers) {
      // An older host sends everyone's presence anyway: the answer is what this client knows of them.
      const present = ids.flatMap((id) => this.#known.get(id) ?? []);
      return Promise.resolve({ ok: true, value: { members: present, offset: 0, total: present.length } });
    }
    return this.#requests.start<MembersPageAnswer>('membersPage', (ref) => this.#write({ type: 'watch', ref, ids }));
  }

  /** Why a request cannot go now, or null when it can. */
  #refusal(feature: string): Extract<Result<never>, { ok: false }> | null {
    if (this.#state.kind !== 'connected') return offline();
    if (!this.#hostFeatures.has(feature)) return failure('BEACON_ERR_OLD_HOST');
    return null;
  }

  /** A change (edit, deletion, reaction, channel request) costs a message's token at the host too. */
  async #change(feature: string, frame: (ref: string) => ClientFrame): Promise<Result<DoneAnswer>> {
    const refusal = this.#refusal(feature);
    if (refusal) return refusal;
    const token = this.#outbox.takeForRequest();
    if (!token.ok) {
      const code = 'BEACON_ERR_RATE_LIMITED';
      return { ok: false, error: { code, message: errorMessage(code), retryAfterMs: token.retryAfterMs } };
    }
    return this.#requests.start<DoneAnswer>('done', (ref) => this.#write(frame(ref)));
  }

  /** Remembered, and said again after every reconnect (a restarted host knows nothing of it). */
  setStatus(status: 'online' | 'away'): void {
    this.#chosenStatus = status;
    if (this.#state.kind === 'connected') this.#write({ type: 'status', status });
  }

  /** Asks for older messages; the page arrives as a 'history' event. */
  loadOlder(conversation: string | undefined, before: number, limit = DEFAULT_HISTORY_PAGE): void {
    if (this.#state.kind !== 'connected') return;
    this.#write({ type: 'history', before, limit, ...(conversation === undefined ? {} : { conversation }) });
  }

  // ── the connection ─────────────────────────────────────────────────────────

  #open(): void {
    this.#knownReason = null;
    this.#knownRetryAfterMs = null;
    this.#knownFingerprints = null;
    this.#security = undefined;
    this.#socketWelcomed = false;
    // While reconnecting, the state keeps saying why (and which attempt) instead of flipping to "connecting".
    const state = this.#state;
    if (state.kind === 'reconnecting' || state.kind === 'offline') {
      if (state.nextRetryAt === null || state.nextRetryAt > this.#options.now()) {
        this.#setState({ ...state, nextRetryAt: this.#options.now() });
      }
    } else {
      this.#setState({ kind: 'connecting', address: this.url, attempt: this.#reconnects.nextAttempt });
    }
    let socket: SocketLike;
    try {
      socket = this.#options.socketFactory(this.url, this.#pin ? { pin: this.#pin } : {});
    } catch {
      this.#failed('BEACON_ERR_BAD_ADDRESS');
      return;
    }
    this.#socket = socket;
    this.#connectTimer = setTimeout(() => this.#lost(socket, 'BEACON_ERR_TIMEOUT'), this.#options.connectTimeoutMs);
    socket.onopen = () => {
      this.#opened(socket.security);
      const lastSeq = this.#cursor.hello(this.#token !== undefined);
      this.#write({
        type: 'hello',
        v: PROTOCOL_VERSION,
        name: this.#options.name,
        ...(this.#options.code ? { code: this.#options.code } : {}),
        ...(this.#token ? { resume: { token: this.#token, lastSeq } } : {}),
        features: [...FEATURES],
      });
    };
    socket.onmessage = (data) => {
      this.#liveness.heard();
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
    socket.onerror = (errorCode, fingerprints) => {
      this.#knownReason ??= errorForSystemCode(errorCode);
      if (fingerprints) this.#knownFingerprints ??= fingerprints;
    };
    socket.onclose = (code, reason) => {
      if (this.#socket === socket)
        this.#lost(
          socket,
          reasonForClose(code, reason, {
            known: this.#knownReason,
            neverConnected: this.#state.kind === 'connecting' && !this.#hasBeenWelcomed,
          }),
        );
    };
  }

  /**
   * The socket is open: the host showed the pinned fingerprint, or, with none pinned, is trusted
   * from now on (the first-use fingerprint is pinned for every reconnect).
   */
  #opened(security: ConnectionSecurity | undefined): void {
    this.#security = security;
    if (security?.encrypted && security.trust === 'first-use' && !this.#pin) {
      this.#pin = { fingerprint: security.fingerprint, trust: 'first-use' };
    }
  }

  /** The connection on `socket` is over (closed, timed out, gone silent) for `reason`. */
  #lost(socket: SocketLike | null, reason: ErrorCode): void {
    this.#teardown(socket);
    this.#failed(reason);
  }

  /** Decides what follows a lost or refused connection: retry with backoff, or stop with the reason. */
  #failed(lostFor: ErrorCode): void {
    if (this.#leftOnPurpose) return;
    if (lostFor === 'BEACON_ERR_HOST_STOPPED') this.#hostStopped = true;
    // While the host is away on purpose, finding nothing there is no news: it is still stopped. Anything
    // the host itself says (a throttle, a wrong code) means it is back, and is said as it is.
    const reason = this.#hostStopped && HOST_ABSENT.has(lostFor) ? 'BEACON_ERR_HOST_STOPPED' : lostFor;
    const reasonText = errorMessage(reason);
    if (!this.#hasBeenWelcomed || isFinal(reason)) {
      const retryAfter =
        this.#knownRetryAfterMs === null ? {} : { retryAfter: this.#options.now() + this.#knownRetryAfterMs };
      const fingerprints =
        reason === 'BEACON_ERR_HOST_CHANGED' && this.#knownFingerprints
          ? { fingerprints: this.#knownFingerprints }
          : {};
      this.#setState({
        kind: 'offline',
        address: this.url,
        reason,
        reasonText,
        nextRetryAt: null,
        ...retryAfter,
        ...fingerprints,
      });
      this.#firstWelcome?.reject({
        code: reason,
        message: reasonText,
        ...(this.#knownRetryAfterMs === null ? {} : { retryAfterMs: this.#knownRetryAfterMs }),
      });
      this.#firstWelcome = null;
      return;
    }
    this.#setState(this.#reconnects.afterLoss(this.url, reason, reasonText, () => this.#open(), this.#hostStopped));
  }

  #teardown(socket: SocketLike | null, code: number = CLOSE.NORMAL, reason = ''): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#liveness.stop();
    this.#outbox.disconnected();
    // Whatever was asked may or may not have been done; an update on resume will say if it was.
    this.#requests.failAll('BEACON_ERR_OFFLINE');
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    if (this.#socket === socket) this.#socket = null;
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened can throw in some runtimes; it is gone either way.
    }
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
        this.#cursor.live(frame.message.seq);
        this.#noteOwn(frame.message);
        this.emit('message', frame.message);
        return;
      case 'ack':
        this.#cursor.acknowledged(frame.seq);
        this.#acknowledged(frame.clientId, frame.seq, frame.files);
        return;
      case 'presence':
        if (frame.event === 'left') this.#known.delete(frame.member.id);
        else this.#known.set(frame.member.id, frame.member);
        this.emit('presence', frame.event, frame.member);
        return;
      case 'typing':
        if (frame.channel !== undefined && frame.channel !== DEFAULT_CHANNEL)
          this.emit('typing', frame.from, frame.to, frame.channel);
        else this.emit('typing', frame.from, frame.to);
        return;
      case 'update':
        this.#cursor.liveUpdate(frame.update);
        this.emit('update', frame.update);
        return;
      case 'done':
        this.#requests.answer(frame.ref, 'done', {
          seq: frame.seq,
          ...(frame.channel ? { channel: frame.channel } : {}),
        } satisfies DoneAnswer);
        return;
      case 'searchResults':
        this.#requests.answer(frame.ref, 'searchResults', {
          // Never more than a page holds, whatever a host sends: an interface lists them all.
          hits: frame.hits.slice(0, WIRE_LIMITS.searchPage).map(withSaneHighlights),
          hasMore: frame.hasMore,
          names: frame.names ?? {},
        } satisfies SearchAnswerFrame);
        return;
      case 'membersPage':
        this.#requests.answer(frame.ref, 'membersPage', {
          // Never more than a page holds, nor anyone twice (lists keyed by id throw), whatever a host sends.
          members: onceEach(frame.members.slice(0, WIRE_LIMITS.membersPage)),
          offset: frame.offset,
          total: Math.min(frame.total, MAX_LISTED_MEMBERS),
        } satisfies MembersPageAnswer);
        return;
      case 'roster': {
        const { total, online } = (this.#memberCount = saneCounts(frame.total, frame.online));
        this.#membersPartial = !frame.complete;
        this.emit('roster', { total, online, complete: frame.complete });
        return;
      }
      case 'history':
        this.#historyPage(frame);
        return;
      case 'pong': {
        const rttMs = this.#liveness.pong(frame.t);
        if (this.#state.kind === 'connected') this.#setState({ ...this.#state, rttMs });
        return;
      }
      case 'error':
        this.#hostError(frame.code, frame.message, frame.ref, frame.retryAfterMs);
        return;
      case 'goodbye':
        this.#knownReason = 'BEACON_ERR_HOST_STOPPED';
        return;
    }
  }

  #welcome(welcome: WelcomeFrame): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    const identityChanged = this.#token !== undefined && !welcome.resumed;
    const { continues, fetchAfter, updates } = this.#cursor.welcome(welcome, identityChanged, this.#hasBeenWelcomed);
    this.#hostFeatures = new Set(welcome.features ?? []);
    this.#socketWelcomed = true;
    this.#hasBeenWelcomed = true;
    this.#hostStopped = false;
    this.#token = welcome.token;
    this.#me = welcome.you;
    this.#hostPingIntervalMs = welcome.limits.pingIntervalMs;
    this.#known.clear();
    for (const member of welcome.members) this.#known.set(member.id, member);
    this.#hostPagesMembers = welcome.memberCount !== undefined;
    this.#memberCount = welcome.memberCount ? saneCounts(welcome.memberCount.total, welcome.memberCount.online) : null;
    this.#membersPartial = welcome.membersPartial === true;
    for (const message of welcome.history) this.#noteOwn(message);
    this.#reconnects.welcomed();
    const security = this.#security === undefined ? {} : { security: this.#security };
    this.#setState({ kind: 'connected', address: this.url, rttMs: this.#liveness.rttMs, ...security });
    // The updates as the cursor passes them on (after a catch-up cut short, without those overtaken).
    this.emit('welcome', welcome.updates === undefined ? welcome : { ...welcome, updates }, continues);
    if (fetchAfter !== null) this.#askCatchUp(fetchAfter);
    // The host may still remember an older choice (or none, after a restart): say the current one.
    if (welcome.you.status !== 'reconnecting' && welcome.you.status !== this.#chosenStatus) {
      this.#write({ type: 'status', status: this.#chosenStatus });
    }
    this.#outbox.connected(welcome.limits);
    this.#liveness.start(this.#options.pingIntervalMs || this.#hostPingIntervalMs);
    // The host forgot the watched set with the last connection: the rows on screen go on getting news.
    if (this.#watched.length > 0 && this.#hostPagesMembers) {
      void this.#sendWatch().then((answer) => {
        if (answer.ok) this.emit('watched', answer.value.members);
      });
    }
    this.#firstWelcome?.resolve();
    this.#firstWelcome = null;
  }

  #historyPage(frame: Extract<HostFrame, { type: 'history' }>): void {
    for (const message of frame.messages) this.#noteOwn(message);
    let messages = frame.messages;
    let updates: Update[] = [];
    if (frame.direction === 'after') {
      const step = this.#cursor.page(frame.messages, frame.hasMore, frame.updates);
      messages = step.messages;
      updates = step.updates;
      if (step.fetchAfter !== null) this.#askCatchUp(step.fetchAfter);
    }
    this.emit('history', {
      conversation: frame.conversation,
      messages,
      hasMore: frame.hasMore,
      direction: frame.direction,
      names: frame.names ?? {},
      updates,
    });
  }

  #askCatchUp(after: number): void {
    this.#write({ type: 'history', after, limit: WIRE_LIMITS.historyPage });
  }

  /** A stored message of ours whose ack was lost (the connection dropped first) counts as its ack. */
  #noteOwn(message: ChatMessage): void {
    if (this.#me && message.from === this.#me.id) this.#acknowledged(message.clientId, message.seq, message.files);
  }

  #acknowledged(clientId: string, seq: number, files?: FileRef[]): void {
    if (this.#outbox.acknowledge(clientId))
      this.emit('status', { clientId, status: 'sent', seq, ...(files?.length ? { files } : {}) });
  }

  #hostError(code: string, message: string, ref: string | undefined, retryAfterMs: number | undefined): void {
    const known: ErrorCode = isErrorCode(code) ? code : 'BEACON_ERR_INTERNAL';
    const retryAfter = retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    // A refused request (v1.5) is its asker's answer, not news for the whole interface.
    if (ref && this.#requests.fail(ref, known, message, retryAfterMs)) return;
    if (ref && this.#outbox.has(ref)) {
      // Throttled, not refused: sent again when the host says there is room.
      if (known === 'BEACON_ERR_RATE_LIMITED') this.#outbox.throttled(ref, retryAfter);
      else if (this.#outbox.fail(ref, message))
        this.emit('status', { clientId: ref, status: 'failed', error: message });
      return;
    }
    // Before the welcome an error explains the close that follows; after it, it is news for the person.
    if (!this.#socketWelcomed) {
      this.#knownReason = known;
      if (retryAfterMs !== undefined) this.#knownRetryAfterMs = retryAfterMs;
      // Said once, as the reason the connection ends (the join form, the indicator), not also as news.
      return;
    }
    const catchUpFrom = this.#cursor.catchingUpFrom;
    if (known === 'BEACON_ERR_RATE_LIMITED' && catchUpFrom !== null) {
      // A throttled catch-up request is asked again, or the resume position would stay frozen.
      setTimeout(() => {
        if (this.#cursor.catchingUpFrom === catchUpFrom) this.#askCatchUp(catchUpFrom);
      }, retryAfter);
      return;
    }
    this.emit('error', { code: known, message });
  }
}

function failure(code: ErrorCode): Extract<Result<never>, { ok: false }> {
  return { ok: false, error: { code, message: errorMessage(code) } };
}

const offline = (): Extract<Result<never>, { ok: false }> => failure('BEACON_ERR_OFFLINE');

/**
 * A search hit with only the highlights that can be shown: whole numbers inside the text, each
 * range ending after it starts and after the previous one ends. A host's bad ranges cost only
 * themselves, never the text.
 */
function withSaneHighlights(hit: SearchHit): SearchHit {
  const length = hit.message.text.length;
  const highlights: [number, number][] = [];
  let end = 0;
  for (const [from, to] of hit.highlights) {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < end || to <= from || to > length) continue;
    highlights.push([from, to]);
    end = to;
  }
  return { ...hit, highlights };
}
