/**
 * The room's members: who they are (identity, resume token, a name nobody
 * else holds), whether they are connected, and the presence news that follows
 * from it ("joined", "reconnecting" during a grace period, "back", "left").
 * v1.6: in a room above `fullPresenceMembers`, news about a member reaches the
 * 'members' clients only of itself, its direct-conversation partners and those
 * watching it (everyone else still hears all of it); the room's counts go out
 * as `roster` frames instead.
 */
import { randomId } from '../shared/ids.ts';
import { encode, type Member, type PresenceEvent } from '../shared/protocol.ts';
import { type Connection, WATCHING_NOBODY } from './connection.ts';
import { foldName, MemberDirectory } from './member-directory.ts';
import { freshRates, type MemberRates } from './member-rates.ts';
import { NameRegistry } from './name-registry.ts';
import type { RoomLimits } from './options.ts';
import { Roster, type RosterCounts } from './roster.ts';
import type { HistoryStore } from './store/history-store.ts';
import type { TickWriter } from './tick-writer.ts';

/** Direct-conversation partners read from the store per member: enough for any person's list. */
const MAX_PARTNERS = 200;

/** Departed members' rate limits are kept at least this long, so leaving and coming back refills nothing. */
const MIN_RATES_MEMORY_MS = 60_000;

interface Identity {
  id: string;
  name: string;
  token: string;
  joinedAt: number;
}

export interface MemberState extends Identity {
  /** What the member asked for; shown unless the connection is down. */
  chosenStatus: 'online' | 'away';
  connection: Connection | null;
  leaveTimer: ReturnType<typeof setTimeout> | null;
  /** The member's public JSON for its current status: every welcome lists every member, so it is built once. */
  json: { status: Member['status']; text: string } | null;
  rates: MemberRates;
  /** The last connection was dropped for reading too slowly: said in the next welcome. */
  droppedSlow: boolean;
  /** The name folded for the member directory's order and filter. */
  nameKey: string;
  /** Ids of the members it has a direct conversation with (null: none); kept while it is in the room. */
  partners: Set<string> | null;
}

export const publicMember = (member: MemberState): Member => ({
  id: member.id,
  name: member.name,
  status: member.connection ? member.chosenStatus : 'reconnecting',
  joinedAt: member.joinedAt,
});

export class Members {
  readonly #limits: RoomLimits;
  readonly #store: HistoryStore;
  readonly #writer: TickWriter;
  readonly #onPresence: (event: PresenceEvent, member: Member) => void;
  readonly #names: NameRegistry;
  readonly #byId = new Map<string, MemberState>();
  readonly #byToken = new Map<string, MemberState>();
  /** Rate limits of members who left recently: coming back does not refill them. */
  readonly #departedRates = new Map<string, { rates: MemberRates; at: number }>();
  /** Everyone in the room (connected or within the grace), in name order. */
  readonly #directory = new MemberDirectory<MemberState>();
  /** Members with a connection now (not reconnecting). */
  #online = 0;
  /** Joined connections that hear all presence (routedPresence false): the writer's audience for routed news. */
  readonly #hearingAll = new Set<Connection>();
  /** Member id → the connections watching it, so routing news costs its audience, never the room. */
  readonly #watchers = new Map<string, Set<Connection>>();
  readonly #roster: Roster;

  constructor(options: {
    limits: RoomLimits;
    store: HistoryStore;
    writer: TickWriter;
    onPresence: (event: PresenceEvent, member: Member) => void;
  }) {
    this.#limits = options.limits;
    this.#store = options.store;
    this.#writer = options.writer;
    this.#onPresence = options.onPresence;
    this.#names = new NameRegistry({ reserveMs: this.#limits.nameReserveMs });
    this.#roster = new Roster({
      intervalMs: this.#limits.rosterIntervalMs,
      writer: this.#writer,
      counts: () => this.counts(),
    });
    const now = Date.now();
    // Names of people seen lately stay theirs across a restart of the host.
    for (const identity of this.#store.recentIdentities(now - this.#limits.nameReserveMs)) {
      this.#names.reserve(identity.name, identity.id, now + this.#limits.nameReserveMs);
    }
  }

  get(id: string): MemberState | undefined {
    return this.#byId.get(id);
  }

  list(): Member[] {
    return [...this.#byId.values()].map(publicMember);
  }

  /** Every member as JSON, for a welcome: each member's text is cached until its status changes. */
  listJson(): string {
    let json = '';
    for (const member of this.#byId.values()) {
      const view = publicMember(member);
      if (member.json?.status !== view.status) member.json = { status: view.status, text: JSON.stringify(view) };
      json += json.length === 0 ? member.json.text : `,${member.json.text}`;
    }
    return `[${json}]`;
  }

  /** How many are in the room, how many of them are connected, and whether it is small enough for full presence. */
  counts(): RosterCounts {
    const total = this.#byId.size;
    return { total, online: this.#online, complete: total <= this.#limits.fullPresenceMembers };
  }

  /** A welcome told its client the counts (so the next change reaches it as a `roster`). */
  welcomed(counts: RosterCounts): void {
    this.#roster.welcomed(counts);
  }

  /** Members in name order from `offset` (of those whose name contains `query`), and how many match. */
  page(query: string, offset: number, limit: number): { members: Member[]; total: number } {
    const { members, total } = this.#directory.page(query, offset, limit);
    return { members: members.map(publicMember), total };
  }

  /**
   * What a large room's welcome lists for `member`: itself, its direct-conversation partners here,
   * and the first `count` members by name, each once.
   */
  partialList(member: MemberState, count: number): Member[] {
    const listed = new Set<MemberState>([member]);
    for (const id of member.partners ?? []) {
      const partner = this.#byId.get(id);
      if (partner) listed.add(partner);
    }
    for (const first of this.#directory.page('', 0, count).members) listed.add(first);
    return [...listed].map(publicMember);
  }

  /**
   * `connection` now watches `ids` instead of what it watched before: those of them in the room now,
   * once each, which are returned.
   */
  watch(connection: Connection, ids: readonly string[]): Member[] {
    this.#unwatch(connection);
    const watched: MemberState[] = [];
    for (const id of new Set(ids)) {
      const member = this.#byId.get(id);
      if (!member) continue;
      watched.push(member);
      let watchers = this.#watchers.get(id);
      if (!watchers) this.#watchers.set(id, (watchers = new Set()));
      watchers.add(connection);
    }
    connection.watching = watched.length === 0 ? WATCHING_NOBODY : watched.map((member) => member.id);
    return watched.map(publicMember);
  }

  /** A direct message went between `a` and `b`: from now on each hears the other's presence in a large room. */
  directMessage(a: string, b: string): void {
    if (a === b) return;
    for (const [one, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const member = this.#byId.get(one);
      if (!member) continue;
      const partners = (member.partners ??= new Set());
      // Kept in order of the latest message, and bounded like the stored list (one member writing to
      // thousands must not make its news cost thousands): the longest silent goes. Refusing the
      // newest instead let 200 strangers' messages keep a friend who wrote next from hearing of it.
      partners.delete(other);
      partners.add(other);
      if (partners.size > MAX_PARTNERS) partners.delete(partners.values().next().value!);
    }
  }

  /** Joined connections that hear everyone's presence (no 'members' in their hello). */
  hearingAll(): Iterable<Connection> {
    return this.#hearingAll;
  }

  /** The connections of everyone connected now: the audience of room frames. */
  *connections(): Iterable<Connection> {
    for (const member of this.#byId.values()) if (member.connection) yield member.connection;
  }

  /** The member a resume token speaks for: one in the room now, or one the store remembers. */
  known(token: string): MemberState | undefined {
    const live = this.#byToken.get(token);
    if (live) return live;
    const stored = this.#store.findMemberByToken(token);
    if (!stored) return undefined;
    // Their name is theirs again, unless someone else holds it now.
    const partners = this.#store.partnersOf(stored.id, MAX_PARTNERS);
    return this.#add({ ...stored, name: this.#names.claim(stored.name, stored.id, Date.now()) }, partners);
  }

  /** A new identity, under `wanted` or a variant of it nobody else holds. */
  newcomer(wanted: string, now: number): MemberState {
    const id = randomId('m_');
    const identity = { id, name: this.#names.claim(wanted, id, now), token: randomId('t_', 24), joinedAt: now };
    this.#store.saveMember(identity);
    // Someone new has written to nobody yet.
    return this.#add(identity, []);
  }

  /**
   * Gives the member its new connection. Returns the connection it replaces
   * (the same person connected again before the old socket timed out: the
   * newest wins) and which presence news this is, if any.
   */
  attach(
    member: MemberState,
    connection: Connection,
    now: number,
  ): { replaced: Connection | null; news: 'joined' | 'back' | null } {
    const replaced = member.connection;
    const wasReconnecting = replaced === null && member.leaveTimer !== null;
    if (replaced) this.#forgetConnection(replaced);
    else this.#online++;
    if (!connection.routedPresence) this.#hearingAll.add(connection);
    this.#roster.changed();
    if (member.leaveTimer) clearTimeout(member.leaveTimer);
    member.leaveTimer = null;
    member.connection = connection;
    connection.member = member;
    if (replaced) replaced.member = null;
    // A newcomer was saved as seen now: a second write per join is a join storm's cost for nothing.
    if (member.joinedAt !== now) this.#store.touchMember(member.id, now);
    return { replaced, news: wasReconnecting ? 'back' : replaced ? null : 'joined' };
  }

  /** The member's connection closed: "left" at once after a leave, otherwise "reconnecting" for a grace period. */
  detach(connection: Connection): void {
    this.#forgetConnection(connection);
    const member = connection.member;
    if (!member || member.connection !== connection) return;
    member.connection = null;
    this.#online--;
    this.#roster.changed();
    if (connection.leaving) {
      this.#remove(member);
      return;
    }
    this.announce('reconnecting', member, null);
    // A silent member has already been gone since it was last heard from.
    const wait = connection.silent
      ? Math.max(0, connection.lastHeard + this.#limits.silentLeaveMs - Date.now())
      : this.#limits.reconnectGraceMs;
    member.leaveTimer = setTimeout(() => this.#remove(member), wait);
  }

  setStatus(member: MemberState, status: 'online' | 'away'): void {
    if (member.chosenStatus === status) return;
    member.chosenStatus = status;
    // The sender hears it too: its own member list shows the status the room sees.
    this.announce(status === 'away' ? 'away' : 'back', member, null);
  }

  announce(event: PresenceEvent, member: MemberState, except: Connection | null): void {
    const view = publicMember(member);
    this.#writer.broadcastPresence(encode({ type: 'presence', event, member: view }), except, this.#routeOf(member));
    this.#onPresence(event, view);
  }

  /**
   * Who, of the 'members' clients, hears news about `member`: everyone while the room is at most
   * fullPresenceMembers (null), otherwise itself, its partners and its watchers.
   */
  #routeOf(member: MemberState): Set<Connection> | null {
    if (this.#byId.size <= this.#limits.fullPresenceMembers) return null;
    const route = new Set<Connection>(this.#watchers.get(member.id));
    if (member.connection) route.add(member.connection);
    for (const id of member.partners ?? []) {
      const partner = this.#byId.get(id)?.connection;
      if (partner) route.add(partner);
    }
    return route;
  }

  /** A connection closed or was replaced: it no longer hears presence, nor watches anyone. */
  #forgetConnection(connection: Connection): void {
    this.#hearingAll.delete(connection);
    this.#unwatch(connection);
  }

  #unwatch(connection: Connection): void {
    for (const id of connection.watching) {
      const watchers = this.#watchers.get(id);
      watchers?.delete(connection);
      if (watchers?.size === 0) this.#watchers.delete(id);
    }
    connection.watching = WATCHING_NOBODY;
  }

  /** Forgets what no longer matters (name holdings, departed members' rates), so no table grows without bound. */
  prune(now: number): void {
    this.#names.prune(now);
    const keepMs = Math.max(this.#limits.floodWindowMs, MIN_RATES_MEMORY_MS);
    for (const [id, departed] of this.#departedRates) if (now - departed.at > keepMs) this.#departedRates.delete(id);
  }

  /** Identities nobody has used for `identityIdleMs` are deleted; members here now are seen now. */
  pruneIdentities(now: number): void {
    for (const member of this.#byId.values()) this.#store.touchMember(member.id, now);
    this.#store.pruneIdentities(this.#limits.identityIdleMs, now);
  }

  stop(): void {
    this.#roster.stop();
    for (const member of this.#byId.values()) if (member.leaveTimer) clearTimeout(member.leaveTimer);
  }

  #add(identity: Identity, partners: readonly string[]): MemberState {
    const departed = this.#departedRates.get(identity.id);
    this.#departedRates.delete(identity.id);
    const member: MemberState = {
      ...identity,
      chosenStatus: 'online',
      connection: null,
      leaveTimer: null,
      json: null,
      rates: departed?.rates ?? freshRates(this.#limits, Date.now()),
      droppedSlow: false,
      nameKey: foldName(identity.name),
      partners: partners.length === 0 ? null : new Set(partners),
    };
    this.#byId.set(member.id, member);
    this.#byToken.set(member.token, member);
    this.#directory.add(member);
    this.#roster.changed();
    return member;
  }

  #remove(member: MemberState): void {
    if (member.leaveTimer) clearTimeout(member.leaveTimer);
    member.leaveTimer = null;
    const now = Date.now();
    this.#byId.delete(member.id);
    this.#byToken.delete(member.token);
    this.#directory.remove(member);
    this.#roster.changed();
    this.#names.release(member.id, now);
    this.#departedRates.set(member.id, { rates: member.rates, at: now });
    this.#store.touchMember(member.id, now);
    const left: Member = { ...publicMember(member), status: 'reconnecting' };
    this.#writer.broadcastPresence(
      encode({ type: 'presence', event: 'left', member: left }),
      null,
      this.#routeOf(member),
    );
    this.#onPresence('left', left);
  }
}
