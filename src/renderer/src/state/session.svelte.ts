import { SvelteMap } from 'svelte/reactivity';
import {
  ROOM,
  type ChatApi,
  type ChatEvent,
  type CommandInput,
  type ConnectionState,
  type ConversationId,
  type HostInfo,
  type NotificationPreferences,
  type OutgoingMessage,
  type RecentRoom,
  type Result,
  type SendReceipt,
  type ChatSnapshot,
} from '../../../shared/chat-api.ts';
import type { ChatMessage, Member } from '../../../shared/protocol.ts';
import { conversationOf } from '../lib/conversation.ts';
import { shouldSendTyping } from '../lib/typing.ts';
import { countsAsUnread, totalUnread } from '../lib/unread.ts';
import { Clock } from './clock.svelte.ts';
import { ConversationState } from './conversation.svelte.ts';
import { OutgoingState } from './outgoing.svelte.ts';
import { PresenceState } from './presence.svelte.ts';
import { TypingState } from './typing.svelte.ts';

const UNREAD_REPORT_DELAY_MS = 250;

export interface SessionOptions {
  clock?: Clock;
  /** Whether the person can see the window; unread counts only grow for what they cannot see. */
  isVisible?: () => boolean;
}

/**
 * Everything the interface shows about a chat session, fed only by ChatApi
 * events and command results.
 */
/** A join or host call cut short by a newer one: not a failure to show, the newer call decides. */
export function superseded(result: Result<unknown>): boolean {
  return !result.ok && result.error.code === 'BEACON_ERR_CANCELLED';
}

export class SessionState {
  readonly api: ChatApi;
  readonly clock: Clock;
  readonly presence = new PresenceState();
  readonly typing = new TypingState();
  readonly outgoing = new OutgoingState();
  readonly conversations = new SvelteMap<ConversationId, ConversationState>();

  connection = $state.raw<ConnectionState>({ kind: 'idle' });
  roomName = $state<string | null>(null);
  hostInfo = $state.raw<HostInfo | null>(null);
  recentRooms = $state.raw<readonly RecentRoom[]>([]);
  displayName = $state('');
  preferences = $state<NotificationPreferences>({ notifyDirect: true, notifyMentions: true });
  active = $state<ConversationId>(ROOM);
  /** The last error event, shown until dismissed or replaced. */
  notice = $state<string | null>(null);
  /** True from a join/host request until the room welcomes us or the attempt fails. */
  joining = $state(false);
  ready = $state(false);

  inRoom = $derived(this.roomName !== null);
  youId = $derived(this.presence.youId);

  /** Room first, then a direct conversation per other member, then past ones with people who left. */
  conversationIds = $derived.by((): ConversationId[] => {
    const ids: ConversationId[] = [ROOM];
    const seen = new Set(ids);
    for (const m of this.presence.others) {
      ids.push(m.id);
      seen.add(m.id);
    }
    for (const [id, conv] of this.conversations) {
      if (!seen.has(id) && conv.messages.length > 0 && id !== this.youId) ids.push(id);
    }
    return ids;
  });

  activeConversation = $derived(this.conversation(this.active));

  #isVisible: () => boolean;
  #unsubscribe: (() => void) | null = null;
  #typingSentAt: number | null = null;
  #typingConversation: ConversationId | null = null;
  #historyMayHaveMore = false;
  #noteId = 0;
  /** Event kinds seen since subscribing: the snapshot, read later, is older than they are. */
  #seen = new Set<ChatEvent['type']>();
  /** Acks that arrived before the message they acknowledge was known here (event/reply ordering is not guaranteed). */
  #earlyAcks = new Map<string, number>();
  #unreadTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(api: ChatApi, options: SessionOptions = {}) {
    this.api = api;
    this.clock = options.clock ?? new Clock();
    this.#isVisible =
      options.isVisible ?? (() => typeof document === 'undefined' || document.visibilityState === 'visible');
  }

  /** Subscribes before reading the snapshot so no event between the two is lost. */
  async start(): Promise<void> {
    this.#unsubscribe = this.api.onEvent((event) => this.handle(event));
    this.clock.start();
    const snapshot = await this.api.getState();
    if (snapshot.ok) this.applySnapshot(snapshot.value);
    else this.notice = snapshot.error.message;
    this.ready = true;
  }

  stop(): void {
    if (this.#unreadTimer !== null) clearTimeout(this.#unreadTimer);
    this.#unreadTimer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.clock.stop();
  }

  /** Returns the conversation, creating it on first use. Not for use inside $derived. */
  ensure(id: ConversationId): ConversationState {
    let conv = this.conversations.get(id);
    if (!conv) {
      conv = new ConversationState(id, this.#historyMayHaveMore);
      this.conversations.set(id, conv);
    }
    return conv;
  }

  conversation(id: ConversationId): ConversationState | undefined {
    return this.conversations.get(id);
  }

  titleOf(id: ConversationId): string {
    return id === ROOM ? (this.roomName ?? 'Room') : this.presence.nameOf(id);
  }

  applySnapshot(s: ChatSnapshot): void {
    const fresh = (type: ChatEvent['type']): boolean => !this.#seen.has(type);
    if (fresh('connection')) this.connection = s.connection;
    if (fresh('hostInfo')) this.hostInfo = s.hostInfo;
    this.displayName = s.displayName;
    this.recentRooms = s.recentRooms;
    this.preferences = s.preferences;
    if (s.room && fresh('welcome') && fresh('left')) {
      this.#enterRoom(s.room.name, s.room.you, s.room.members, s.history, s.hasMore, false);
    }
    for (const item of s.outgoing) this.#accept(item);
  }

  handle(event: ChatEvent): void {
    this.#seen.add(event.type);
    switch (event.type) {
      case 'connection':
        this.connection = event.state;
        if (event.state.kind === 'offline' && !this.inRoom) this.joining = false;
        break;
      case 'welcome':
        this.#enterRoom(
          event.room.name,
          event.room.you,
          event.room.members,
          event.history,
          event.hasMore,
          event.resumed,
        );
        break;
      case 'presence':
        this.#presence(event.event, event.member);
        break;
      case 'messages':
        for (const message of event.messages) this.#receive(message);
        break;
      case 'outgoing':
        this.#accept(event.message);
        break;
      case 'messageStatus':
        this.#status(event.clientId, event.status, event.seq, event.error);
        break;
      case 'typing':
        if (event.from !== this.youId) this.typing.renew(event.conversation, event.from, Date.now());
        break;
      case 'history': {
        const conv = this.ensure(event.conversation);
        conv.add(event.messages);
        conv.hasMore = event.hasMore;
        conv.loadingOlder = false;
        break;
      }
      case 'hostInfo':
        this.hostInfo = event.info;
        break;
      case 'error':
        this.notice = event.message;
        break;
      case 'openConversation':
        this.open(event.conversation);
        break;
      case 'left':
        this.#leftRoom();
        this.recentRooms = event.recentRooms;
        this.displayName = event.displayName;
        break;
    }
  }

  #enterRoom(
    name: string,
    you: Member,
    members: readonly Member[],
    history: readonly ChatMessage[],
    hasMore: boolean,
    resumed: boolean,
  ): void {
    this.roomName = name;
    this.joining = false;
    this.presence.reset(you, members);
    if (!resumed) {
      this.#historyMayHaveMore = hasMore;
      for (const conv of this.conversations.values()) {
        conv.reset();
        conv.hasMore = hasMore;
      }
      this.active = this.conversations.has(this.active) || this.active === ROOM ? this.active : ROOM;
    }
    this.#addMessages(history);
    if (!resumed) this.ensure(ROOM).hasMore = hasMore;
    // Our own acknowledged messages may be in the history: drop their pending copies.
    for (const m of history) if (m.from === you.id) this.outgoing.resolve(m.clientId);
  }

  #addMessages(messages: readonly ChatMessage[]): void {
    const me = this.youId ?? '';
    const groups = new Map<ConversationId, ChatMessage[]>();
    for (const m of messages) {
      const id = conversationOf(m, me);
      let list = groups.get(id);
      if (!list) groups.set(id, (list = []));
      list.push(m);
    }
    for (const [id, list] of groups) this.ensure(id).add(list);
  }

  #receive(message: ChatMessage): void {
    const me = this.youId ?? '';
    const id = conversationOf(message, me);
    const conv = this.ensure(id);
    const kind = conv.add([message]);
    if (message.from === me) this.outgoing.resolve(message.clientId);
    else this.typing.stop(id, message.from);
    if (kind !== 'none' && countsAsUnread(message, me, this.active, this.#isVisible())) {
      conv.unread += 1;
      this.#scheduleUnreadReport();
    }
  }

  #status(
    clientId: string,
    status: OutgoingMessage['status'],
    seq: number | undefined,
    error: string | undefined,
  ): void {
    if (status === 'sent' && seq !== undefined) {
      const item = this.outgoing.resolve(clientId);
      if (item) this.#becomeMessage(item, seq);
      else this.#earlyAcks.set(clientId, seq);
      return;
    }
    this.outgoing.setStatus(clientId, status, error);
  }

  #accept(item: OutgoingMessage): void {
    const seq = this.#earlyAcks.get(item.clientId);
    if (seq === undefined) {
      this.outgoing.upsert(item);
      return;
    }
    this.#earlyAcks.delete(item.clientId);
    this.#becomeMessage(item, seq);
  }

  /** The acknowledged message takes its place in the conversation; a later echo of it is deduplicated by seq. */
  #becomeMessage(item: OutgoingMessage, seq: number): void {
    if (this.youId === null) return;
    this.ensure(item.conversation).add([
      {
        seq,
        from: this.youId,
        to: item.conversation === ROOM ? null : item.conversation,
        text: item.text,
        ts: item.ts,
        clientId: item.clientId,
      },
    ]);
  }

  #presence(kind: string, member: Member): void {
    if (kind === 'left') this.presence.remove(member.id);
    else this.presence.upsert(member);
    if (member.id === this.youId) return;
    if (kind === 'joined' || kind === 'left') {
      const room = this.ensure(ROOM);
      room.addNote({
        id: `${++this.#noteId}`,
        afterSeq: room.newestSeq ?? -1,
        ts: Date.now(),
        text: `${member.name} ${kind === 'joined' ? 'joined' : 'left'}`,
      });
    }
    if (kind === 'left') {
      for (const id of this.conversations.keys()) this.typing.stop(id, member.id);
    }
  }

  #leftRoom(): void {
    this.roomName = null;
    this.joining = false;
    this.hostInfo = null;
    this.presence.clear();
    this.typing.clear();
    this.conversations.clear();
    this.outgoing.replaceAll([]);
    this.#earlyAcks.clear();
    this.active = ROOM;
  }

  // ── commands ─────────────────────────────────────────────────────────────

  async join(input: CommandInput<'join'>): Promise<Result<null>> {
    this.joining = true;
    const result = await this.api.join(input);
    if (!result.ok && !superseded(result)) this.joining = false;
    return result;
  }

  async host(input: CommandInput<'host'>): Promise<Result<HostInfo>> {
    this.joining = true;
    const result = await this.api.host(input);
    if (result.ok) this.hostInfo = result.value;
    else if (!superseded(result)) this.joining = false;
    return result;
  }

  async leave(): Promise<void> {
    const result = await this.api.leave();
    if (!result.ok) this.notice = result.error.message;
    // Do not depend on a 'left' event to get back to the start screen; a second reset is harmless.
    else if (this.inRoom || this.joining) this.#leftRoom();
  }

  open(id: ConversationId): void {
    this.active = id;
    const conv = this.ensure(id);
    this.markRead(id);
    if (conv.messages.length === 0 && conv.hasMore) this.loadOlder(id);
  }

  markRead(id: ConversationId): void {
    const conv = this.conversations.get(id);
    if (!conv || conv.unread === 0) return;
    conv.unread = 0;
    this.#reportUnread(id);
  }

  #unreadTotal(): number {
    return totalUnread([...this.conversations.values()].map((c) => c.unread));
  }

  #reportUnread(conversation: ConversationId): void {
    if (this.#unreadTimer !== null) clearTimeout(this.#unreadTimer);
    this.#unreadTimer = null;
    void this.api.reportUnread({ total: this.#unreadTotal() });
  }

  /**
   * Main shows the total as the app badge, so rises are reported too (through
   * markRead, the one command that carries the total), coalesced so a burst of
   * messages is one call.
   */
  #scheduleUnreadReport(): void {
    if (this.#unreadTimer !== null) return;
    this.#unreadTimer = setTimeout(() => this.#reportUnread(this.active), UNREAD_REPORT_DELAY_MS);
  }

  /** Called when the window becomes visible again: what is on screen is now read. */
  seen(): void {
    this.markRead(this.active);
  }

  loadOlder(id: ConversationId): void {
    const conv = this.ensure(id);
    if (conv.loadingOlder || !conv.hasMore) return;
    conv.loadingOlder = true;
    // An empty direct conversation asks for everything before the newest message anywhere.
    const before = conv.oldestSeq ?? this.#newestSeqAnywhere() + 1;
    void this.api.loadOlder({ conversation: id, before }).then((r) => {
      if (!r.ok) {
        conv.loadingOlder = false;
        this.notice = r.error.message;
      }
    });
  }

  #newestSeqAnywhere(): number {
    let newest = 0;
    for (const conv of this.conversations.values()) newest = Math.max(newest, conv.newestSeq ?? 0);
    return newest;
  }

  /** The message appears through the `outgoing` event; the result says only whether it was taken. */
  async send(conversation: ConversationId, text: string): Promise<Result<SendReceipt>> {
    this.#typingSentAt = null;
    return this.api.send({ conversation, text });
  }

  async retry(clientId: string): Promise<void> {
    this.outgoing.setStatus(clientId, 'pending');
    const result = await this.api.retry({ clientId });
    if (!result.ok) this.outgoing.setStatus(clientId, 'failed', result.error.message);
  }

  retryNow(): void {
    void this.api.retryNow().then((r) => {
      if (!r.ok) this.notice = r.error.message;
    });
  }

  /** Tells others we are typing, at most every few seconds per conversation. */
  typed(conversation: ConversationId, now = Date.now()): void {
    if (conversation !== this.#typingConversation) this.#typingSentAt = null;
    if (!shouldSendTyping(this.#typingSentAt, now)) return;
    this.#typingSentAt = now;
    this.#typingConversation = conversation;
    void this.api.typing({ conversation });
  }

  setStatus(status: 'online' | 'away'): void {
    void this.api.setStatus({ status });
  }

  setPreferences(change: Partial<NotificationPreferences>): void {
    this.preferences = { ...this.preferences, ...change };
    void this.api.setPreferences(this.preferences);
  }
}
