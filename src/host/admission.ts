/**
 * Who gets into the room: the upgrade (origin, unjoined connections per
 * address), the hello (rate of joins, penalties, the name, the join code with
 * its delays and lockouts, a resume token) and the welcome that ends it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkDisplayName } from '../shared/display-name.ts';
import { errorMessage } from '../shared/errors.ts';
import { normalizeJoinCode } from '../shared/ids.ts';
import { encode, type HelloFrame, PROTOCOL_VERSION } from '../shared/protocol.ts';
import { type Connection, Replies } from './connection.ts';
import { isHostsOwnAddress } from './connection-gate.ts';
import { JoinGuard } from './join-guard.ts';
import { isOwnHostName } from './lan-addresses.ts';
import { type Members, publicMember } from './members.ts';
import { NewcomerThrottle } from './newcomer-throttle.ts';
import type { RoomLimits } from './options.ts';
import type { RejoinThrottle } from './rejoin-throttle.ts';
import type { HistoryPage, HistoryStore } from './store/history-store.ts';
import type { TickWriter } from './tick-writer.ts';
import type { WelcomeFiles } from './files/file-service.ts';
import type { ChannelDirectory } from './conversations/channel-directory.ts';
import { withinPageBudget } from './conversations/page-budget.ts';

/** What this host can do beyond v1.4 (welcome.features), search only with FTS5. */
const HOST_FEATURES = ['channels', 'replies', 'edits', 'reactions', 'mentions'] as const;

export class Admission {
  readonly #limits: RoomLimits;
  readonly #code: string | null;
  readonly #roomName: string;
  readonly #bind: string | undefined;
  readonly #port: () => number;
  readonly #encrypted: boolean;
  readonly #store: HistoryStore;
  readonly #members: Members;
  readonly #writer: TickWriter;
  readonly #replies: Replies;
  readonly #rejoins: RejoinThrottle;
  readonly #guard: JoinGuard;
  readonly #newcomers: NewcomerThrottle;
  readonly #onJoined: (connection: Connection) => void;
  readonly #files: ((memberId: string) => WelcomeFiles) | null;
  readonly #channels: ChannelDirectory;
  readonly #features: string[];
  /** The newcomers' page, for clients with and without channels, as of `lastSeq`. */
  readonly #newcomerPages = new Map<boolean, { lastSeq: number; page: HistoryPage }>();

  constructor(options: {
    limits: RoomLimits;
    code: string | null;
    roomName: string;
    bind: string | undefined;
    port: () => number;
    /** The host speaks TLS: its own page can only have an https:// origin. */
    encrypted: boolean;
    store: HistoryStore;
    members: Members;
    writer: TickWriter;
    replies: Replies;
    rejoins: RejoinThrottle;
    /** Addresses whose count of new identities is remembered at most. */
    maxNewcomerAddresses: number;
    /** A member joined over this connection: its socket is never closed to make room for others. */
    onJoined: (connection: Connection) => void;
    /** How a member uploads and downloads (welcome.files); null when the room takes no files. */
    files?: ((memberId: string) => WelcomeFiles) | null;
    /** The room's channels (v1.5), for every welcome. */
    channels: ChannelDirectory;
  }) {
    this.#limits = options.limits;
    this.#code = options.code;
    this.#roomName = options.roomName;
    this.#bind = options.bind;
    this.#port = options.port;
    this.#encrypted = options.encrypted;
    this.#store = options.store;
    this.#members = options.members;
    this.#writer = options.writer;
    this.#replies = options.replies;
    this.#rejoins = options.rejoins;
    this.#onJoined = options.onJoined;
    this.#files = options.files ?? null;
    this.#channels = options.channels;
    this.#features = [...HOST_FEATURES, ...(options.store.hasFts5 ? ['search'] : [])];
    this.#newcomers = new NewcomerThrottle({
      perHour: options.limits.newMembersPerHour,
      burst: options.limits.newMemberBurst,
      maxAddresses: options.maxNewcomerAddresses,
    });
    this.#guard = new JoinGuard({
      delayStepMs: options.limits.wrongCodeDelayMs,
      lockoutAfter: options.limits.lockoutAfter,
      lockoutMs: options.limits.lockoutMs,
      maxLockoutMs: options.limits.maxLockoutMs,
      roomWrongPerMinute: options.limits.roomWrongCodesPerMinute,
      roomWrongBurst: options.limits.roomWrongCodeBurst,
    });
  }

  /**
   * Answers an upgrade that may not become a WebSocket with an HTTP refusal
   * and returns false. `unjoinedFrom` counts the address's connections that
   * have not joined yet.
   */
  mayUpgrade(req: IncomingMessage, socket: Duplex, unjoinedFrom: (address: string) => number): boolean {
    // Browsers always send Origin; only the page this host served may connect.
    // Programs (the desktop app, the terminal client) send none.
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#ownOrigin(origin, req.headers.host)) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n${errorMessage('BEACON_ERR_ORIGIN')}`);
      return false;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!isHostsOwnAddress(address) && unjoinedFrom(address) >= this.#limits.maxUnjoinedPerAddress) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\n\r\n');
      return false;
    }
    return true;
  }

  /** A new connection has `helloTimeoutMs` to say hello. */
  awaitHello(connection: Connection): void {
    connection.helloTimer = setTimeout(
      () => this.#replies.refuse(connection, 'BEACON_ERR_HELLO_TIMEOUT'),
      this.#limits.helloTimeoutMs,
    );
  }

  /** The connection's first hello: refused with a reason, or welcomed as a member. */
  hello(connection: Connection, hello: HelloFrame): void {
    connection.helloInProgress = true;
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    connection.helloTimer = null;
    const now = Date.now();
    const rejoin = this.#rejoins.hello(connection.address, now);
    if (!rejoin.ok) {
      const code = rejoin.reason === 'penalized' ? 'BEACON_ERR_PENALIZED' : 'BEACON_ERR_TOO_MANY_JOINS';
      this.#replies.refuse(connection, code, { retryAfterMs: rejoin.retryAfterMs });
      return;
    }
    const name = checkDisplayName(hello.name);
    if (!name.ok) {
      this.#replies.refuse(connection, 'BEACON_ERR_BAD_NAME', { detail: name.reason });
      return;
    }
    // A member coming back with its resume token needs no code: the token is the stronger secret, and
    // so a flood of wrong codes (which stops code checks room-wide) never keeps members out.
    const known = hello.resume ? this.#members.known(hello.resume.token) : undefined;
    if (!known && this.#code !== null && !this.#codeAccepted(connection, hello.code ?? '', now)) return;
    // Counted only once the code is right: a wrong code makes no identity.
    const fresh = known ? null : this.#newcomers.take(connection.address, now);
    if (fresh && !fresh.ok) {
      this.#replies.refuse(connection, 'BEACON_ERR_TOO_MANY_NEW_MEMBERS', { retryAfterMs: fresh.retryAfterMs });
      return;
    }
    const member = known ?? this.#members.newcomer(name.name, now);
    // Said once, in the hello: a connection without it is sent the default channel only (§19.1).
    connection.channels = hello.features?.includes('channels') ?? false;
    // v1.6: in a large room such a client hears presence only of those it needs, and pages the list itself.
    connection.routedPresence = hello.features?.includes('members') ?? false;
    const { replaced, news } = this.#members.attach(member, connection, now);
    this.#onJoined(connection);
    if (replaced) this.#replies.refuse(replaced, 'BEACON_ERR_REPLACED');

    const lastSeq = hello.resume?.lastSeq ?? 0;
    const resuming = known !== undefined && lastSeq > 0;
    const page = known
      ? this.#latestPage(member.id, resuming ? lastSeq : null, connection.channels)
      : this.#newcomerPage(member.id, connection.channels);
    // Counted with this member in: a large room's newcomer gets part of the list, and no O(N) work (§20).
    const counts = this.#members.counts();
    const partial = connection.routedPresence && !counts.complete;
    const welcome = encode({
      type: 'welcome',
      v: PROTOCOL_VERSION,
      room: { name: this.#roomName },
      you: publicMember(member),
      token: member.token,
      resumed: known !== undefined,
      members: partial ? this.#members.partialList(member, this.#limits.welcomeMembers) : [],
      history: page.messages,
      hasMore: page.hasMore,
      names: this.#store.namesFor(page.messages, page.updates),
      lastSeq: this.#store.lastSeq,
      limits: {
        maxMessageBytes: this.#limits.maxMessageBytes,
        pingIntervalMs: this.#limits.pingIntervalMs,
        messagesPerSecond: this.#limits.messagesPerSecond,
        messageBurst: this.#limits.messageBurst,
      },
      ...(this.#files ? { files: this.#files(member.id) } : {}),
      // A client without channels is told nothing of them: it would ignore it, and it costs bytes.
      ...(connection.channels
        ? {
            channels: [...this.#channels.list()],
            features: this.#features,
            channelCreators: this.#channels.creators,
          }
        : {}),
      ...(resuming && page.updates.length > 0 ? { updates: page.updates } : {}),
      ...(connection.routedPresence
        ? { memberCount: { total: counts.total, online: counts.online }, ...(partial ? { membersPartial: true } : {}) }
        : {}),
    });
    if (connection.routedPresence) this.#members.welcomed(counts);
    // The welcome reflects all presence news so far: none of it is sent to this connection again.
    connection.presenceSeen = this.#writer.presenceNumber;
    if (partial) {
      this.#writer.queue(connection, welcome);
    } else {
      // Splice in the cached member list (`"members":[]` cannot occur inside an escaped string). A function,
      // not a string, as the replacement: a name holding `$'` or `$&` must not be read as a pattern.
      const members = `"members":${this.#members.listJson()}`;
      this.#writer.queue(
        connection,
        welcome.replace('"members":[]', () => members),
      );
    }
    if (member.droppedSlow) {
      // The 4006 close queued behind the data it could not read, so it most likely never arrived: say it now.
      member.droppedSlow = false;
      this.#replies.error(connection, 'BEACON_ERR_SLOW_READER');
    }
    if (news) this.#members.announce(news, member, connection);
  }

  /**
   * The latest page as a brand-new identity sees it: the same for every newcomer (none has a direct
   * message yet) until the history changes, and messages and updates share `lastSeq`. Read once per
   * change, not once per join: a join storm of 2,000 newcomers read it 2,000 times.
   */
  #newcomerPage(memberId: string, channels: boolean): HistoryPage {
    const lastSeq = this.#store.lastSeq;
    const cached = this.#newcomerPages.get(channels);
    if (cached?.lastSeq === lastSeq) return cached.page;
    const page = this.#latestPage(memberId, null, channels);
    this.#newcomerPages.set(channels, { lastSeq, page });
    return page;
  }

  /**
   * What a welcome carries of the history: the latest page, or on a resume what was missed after
   * `resumeAfter` with its updates (even to messages older than that, §19.6). Held to the budget as
   * it will be sent: the store's estimate cannot see reactions.
   */
  #latestPage(memberId: string, resumeAfter: number | null, channels: boolean): HistoryPage {
    const resuming = resumeAfter !== null;
    const read = this.#store.page(
      memberId,
      'all',
      resuming ? { after: resumeAfter } : {},
      resuming ? this.#limits.resumePageSize : this.#limits.historyPageSize,
      this.#limits.maxPageBytes,
      { channels },
    );
    return withinPageBudget(read, resuming, this.#limits.maxPageBytes);
  }

  prune(now: number): void {
    this.#guard.prune(now);
    this.#newcomers.prune(now);
  }

  /**
   * Checks a join code, if the guard allows a check at all; refuses the
   * connection (after the guard's delay for a wrong code) and returns false otherwise.
   */
  #codeAccepted(connection: Connection, code: string, now: number): boolean {
    const check = this.#guard.mayCheck(connection.address, now);
    if (!check.ok) {
      const error = check.reason === 'locked-out' ? 'BEACON_ERR_LOCKED_OUT' : 'BEACON_ERR_ROOM_BUSY';
      this.#replies.refuse(connection, error, { retryAfterMs: check.retryAfterMs });
      return false;
    }
    if (normalizeJoinCode(code) === normalizeJoinCode(this.#code ?? '')) {
      this.#guard.recordSuccess(connection.address, now);
      return true;
    }
    const { delayMs, lockedOut, lockedForMs } = this.#guard.recordFailure(connection.address, now);
    // A lockout says how long it lasts, so the person sees a countdown instead of guessing.
    setTimeout(
      () =>
        lockedOut
          ? this.#replies.refuse(connection, 'BEACON_ERR_LOCKED_OUT', {
              retryAfterMs: Math.max(0, lockedForMs - delayMs),
            })
          : this.#replies.refuse(connection, 'BEACON_ERR_WRONG_CODE'),
      delayMs,
    );
    return false;
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
      if (url.protocol !== (this.#encrypted ? 'https:' : 'http:')) return false;
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      return (
        host !== undefined && url.host === host && port === this.#port() && isOwnHostName(url.hostname, this.#bind)
      );
    } catch {
      return false;
    }
  }
}
