import {
  ROOM,
  type ChatApi,
  type CommandInput,
  type ConnectionState,
  type ConversationId,
  type HostInfo,
  type Result,
  type RoomView,
} from '../../../shared/chat-api.ts';
import type { Fingerprint } from '../../../shared/fingerprint.ts';
import { isChannelId, WIRE_LIMITS, type Member, type PresenceEvent } from '../../../shared/protocol.ts';
import { ChannelsState } from './channels.svelte.ts';
import { MemberDirectory } from './member-directory.svelte.ts';
import { MentionSearch } from './mention-search.svelte.ts';
import { PresenceState } from './presence.svelte.ts';
import { TypingState } from './typing.svelte.ts';

/** A join or host call cut short by a newer one: not a failure to show, the newer call decides. */
export function superseded(result: Result<unknown>): boolean {
  return !result.ok && result.error.code === 'BEACON_ERR_CANCELLED';
}

/** A host that answered with another fingerprint than the one expected (BEACON_ERR_HOST_CHANGED). */
export interface HostChanged {
  address: string;
  /** Both are missing when the client could not say which fingerprints it compared. */
  fingerprints: { expected: Fingerprint; presented: Fingerprint } | null;
}

/**
 * The room this window is in, or is trying to get into: the connection, who
 * is here and typing, what we host, and the last thing that went wrong.
 * Conversations live in ConversationsState; this only knows the room.
 */
export class RoomState {
  readonly presence = new PresenceState();
  readonly typing = new TypingState();
  readonly channels: ChannelsState;
  /** A large room's member list, paged from the host (while `membersPartial`). */
  readonly directory: MemberDirectory;
  /** A large room's @ picker: the host is asked for the names typed. */
  readonly mentions: MentionSearch;

  connection = $state.raw<ConnectionState>({ kind: 'idle' });
  roomName = $state<string | null>(null);
  hostInfo = $state.raw<HostInfo | null>(null);
  /** True from a join/host request until the room welcomes us or the attempt fails. */
  joining = $state(false);
  /** The last error, shown until dismissed or replaced. */
  notice = $state<string | null>(null);
  /** The host's fingerprint changed: joining stopped until the person leaves or trusts the new one. */
  hostChanged = $state.raw<HostChanged | null>(null);
  /**
   * v1.6: the room is large and `presence` holds only part of it (you, your partners, those on
   * screen); the member list pages the rest from the host.
   */
  membersPartial = $state(false);
  /** v1.6: the room's counts as the host last said them; null from an older host. */
  memberCount = $state.raw<{ total: number; online: number } | null>(null);

  inRoom = $derived(this.roomName !== null);
  youId = $derived(this.presence.youId);
  /**
   * How many are here. A complete list counts itself (it is live to the event); a partial one
   * relies on the host's counts.
   */
  memberTotal = $derived(
    this.membersPartial && this.memberCount ? this.memberCount.total : this.presence.members.length,
  );
  /** How many of them are online or away (not reconnecting). */
  memberOnline = $derived(
    this.membersPartial && this.memberCount
      ? this.memberCount.online
      : this.presence.members.filter((m) => m.status !== 'reconnecting').length,
  );
  /** Nobody's presence is known while this window is not connected: lists say so and dim their dots. */
  presenceStale = $derived(this.connection.kind !== 'connected');
  /** What the composer says while messages cannot go out: when they will. */
  offlineHint = $derived.by((): string | null => {
    const c = this.connection;
    if (c.kind === 'offline' && c.reason === 'BEACON_ERR_HOST_STOPPED') {
      return 'The host stopped the room — messages will be sent when the host is back.';
    }
    if (c.kind === 'offline' && c.reason === 'BEACON_ERR_WRONG_CODE') {
      return 'Messages will be sent once you rejoin with the new join code.';
    }
    if (c.kind === 'reconnecting' || c.kind === 'offline' || c.kind === 'connecting') {
      return 'Offline — messages will be sent when you reconnect.';
    }
    return null;
  });

  readonly #api: ChatApi;
  /** Leaving resets more than the room (conversations too), so the owner says what leaving means. */
  readonly #onLeft: () => void;

  /**
   * Asks the person to confirm a question (stopping a room others are in);
   * the window's own dialog unless a view (an in-app dialog) or a test
   * provides another, which may answer later.
   */
  confirm: (question: string) => boolean | Promise<boolean> = (question) =>
    typeof globalThis.confirm === 'function' ? globalThis.confirm(question) : true;

  constructor(api: ChatApi, onLeave?: () => void) {
    this.#api = api;
    this.channels = new ChannelsState(api);
    this.directory = new MemberDirectory(api);
    this.mentions = new MentionSearch(api, () => this.youId);
    this.#onLeft = onLeave ?? (() => this.left());
  }

  /** A channel's name (the room's own name where the host has no channels), or the other person's. */
  titleOf(id: ConversationId): string {
    if (!isChannelId(id)) return this.presence.nameOf(id);
    return this.channels.get(id)?.name ?? (id === ROOM ? (this.roomName ?? 'Room') : 'unknown channel');
  }

  // ── facts, as the events tell them ───────────────────────────────────────

  connectionChanged(state: ConnectionState): void {
    this.connection = state;
    if (state.kind === 'connected') this.hostChanged = null;
    if (state.kind === 'offline' && state.reason === 'BEACON_ERR_HOST_CHANGED') {
      this.hostChanged = { address: state.address, fingerprints: state.fingerprints ?? null };
    }
    // A window that opens while its page is already getting back in (a reloaded tab) shows that, not the form.
    if (state.kind === 'connecting' && !this.inRoom) this.joining = true;
    // Giving up on a room we never got into ends the attempt; inside a room, reconnecting goes on.
    if (state.kind === 'offline' && !this.inRoom) this.joining = false;
  }

  entered(room: RoomView): void {
    this.roomName = room.name;
    this.joining = false;
    this.presence.learn(room.names);
    this.presence.reset(room.you, room.members);
    this.channels.entered(room);
    this.memberCount = room.memberCount ?? null;
    this.#partial(room.membersPartial === true);
  }

  /** v1.6: the room's counts changed; `complete` false: the room is large and the list is paged. */
  rosterChanged(total: number, online: number, complete: boolean): void {
    this.memberCount = { total, online };
    const wasPartial = this.membersPartial;
    this.#partial(!complete);
    if (!complete) this.directory.rosterChanged();
    // Small again: the host sends everyone's presence from now on, and the list of everyone once asked.
    else if (wasPartial) void this.#loadWholeList();
  }

  memberChanged(event: PresenceEvent, member: Member): void {
    if (event === 'left') {
      this.presence.remove(member.id);
      this.typing.stopAll(member.id);
    } else {
      this.presence.upsert(member);
    }
    if (this.membersPartial) this.directory.memberChanged(event, member);
  }

  /**
   * The person chose `member` from a large room's list to talk to: they are known to be here now
   * (the conversation shows them present, not gone), and their presence is watched from now on.
   */
  chosenFromList(member: Member): void {
    if (!this.membersPartial) return;
    if (!this.presence.has(member.id)) this.presence.upsert(member);
    this.directory.alsoWatch(member.id);
  }

  someoneTyping(from: string, conversation: ConversationId, now = Date.now()): void {
    if (from !== this.youId) this.typing.renew(conversation, from, now);
  }

  left(): void {
    this.roomName = null;
    this.joining = false;
    this.hostInfo = null;
    this.hostChanged = null;
    this.presence.clear();
    this.typing.clear();
    this.channels.left();
    this.membersPartial = false;
    this.memberCount = null;
    this.directory.stop();
  }

  #partial(partial: boolean): void {
    this.membersPartial = partial;
    if (partial) this.directory.start();
    else this.directory.stop();
  }

  /** The whole list of a room that became small again, a page at a time (it is at most a few pages). */
  async #loadWholeList(): Promise<void> {
    for (let offset = 0; ;) {
      const page = await this.#api.members({ offset, limit: WIRE_LIMITS.membersPage });
      // Large again meanwhile, or left: the directory pages instead.
      if (!page.ok || this.membersPartial || !this.inRoom) return;
      for (const m of page.value.members) if (!this.presence.has(m.id)) this.presence.upsert(m);
      offset += page.value.members.length;
      if (page.value.members.length === 0 || offset >= page.value.total) return;
    }
  }

  // ── commands ─────────────────────────────────────────────────────────────

  async join(input: CommandInput<'join'>): Promise<Result<null>> {
    this.joining = true;
    const result = await this.#api.join(input);
    if (!result.ok && !superseded(result)) this.joining = false;
    return result;
  }

  async host(input: CommandInput<'host'>): Promise<Result<HostInfo>> {
    this.joining = true;
    const result = await this.#api.host(input);
    if (result.ok) this.hostInfo = result.value;
    else if (!superseded(result)) this.joining = false;
    return result;
  }

  /**
   * Leaves the room (and stops hosting it). Stopping a room others are in
   * ends it for them too, so that is asked first; returns false if the
   * person said no.
   */
  async leave(): Promise<boolean> {
    const others = this.memberTotal - 1;
    if (this.hostInfo && others > 0) {
      const people = others === 1 ? '1 other person is' : `${others} other people are`;
      if (!(await this.confirm(`${people} in this room. Stop hosting and end the room for everyone?`))) return false;
    }
    const result = await this.#api.leave();
    if (!result.ok) {
      this.notice = result.error.message;
      return false;
    }
    this.hostChanged = null;
    // The start screen does not wait for the 'left' event; a second reset when it comes is harmless.
    if (this.inRoom || this.joining) this.#onLeft();
    return true;
  }

  retryNow(): void {
    void this.#api.retryNow().then((r) => {
      if (!r.ok) this.notice = r.error.message;
    });
  }

  /** Tries again with the new code the host gave (it restarted with another one). */
  retryWithCode(code: string): void {
    void this.#api.retryWithCode({ code }).then((r) => {
      if (!r.ok) this.notice = r.error.message;
    });
  }

  /**
   * After the person checked with the host: trust the fingerprint the host now shows and join again.
   * Resolves with the api's answer; a refusal is the caller's to show, beside the warning.
   */
  async trustHost(fingerprint: Fingerprint): Promise<Result<null>> {
    const result = await this.#api.trustHost({ fingerprint });
    if (result.ok) this.hostChanged = null;
    return result;
  }

  setStatus(status: 'online' | 'away'): void {
    void this.#api.setStatus({ status });
  }
}
