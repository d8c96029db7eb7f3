import { SvelteMap } from 'svelte/reactivity';
import {
  ROOM,
  type ChatApi,
  type ConversationId,
  type MessageStatus,
  type OutgoingMessage,
  type Result,
  type SendReceipt,
} from '../../../shared/chat-api.ts';
import {
  isChannelId,
  WIRE_LIMITS,
  type ChatMessage,
  type Member,
  type PresenceEvent,
} from '../../../shared/protocol.ts';
import { conversationOf } from '../lib/conversation.ts';
import { shouldSendTyping } from '../lib/typing.ts';
import { countsAsUnread, mentionsMe, totalUnread } from '../lib/unread.ts';
import { ConversationState } from './conversation.svelte.ts';
import { OutgoingState } from './outgoing.svelte.ts';
import type { RoomState } from './room.svelte.ts';
import { UnreadReport } from './unread-report.ts';

export interface ConversationsOptions {
  /** Whether the person can see the window; unread counts only grow for what they cannot see. */
  isVisible?: () => boolean;
  /** The files of one of our messages just acknowledged (the host does not send them back). */
  filesOf?: (item: OutgoingMessage) => ChatMessage['files'];
}

/**
 * The room's conversation and the direct ones: their messages, which one is
 * open, what is unread, and this user's own messages on their way out. It
 * reads the room (who we are, who is here) and touches it only twice: a
 * message ends its sender's typing notice, and a failed command shows a notice.
 */
export class ConversationsState {
  readonly outgoing = new OutgoingState();
  readonly byId = new SvelteMap<ConversationId, ConversationState>();
  active = $state<ConversationId>(ROOM);

  /**
   * The channels open for messages (the room alone where the host has none; an archived one only
   * while it is open), then a direct conversation per other member, then past ones with people who left.
   */
  conversationIds = $derived.by((): ConversationId[] => {
    const channels = this.#room.channels;
    const ids: ConversationId[] = channels.open.length > 0 ? channels.open.map((c) => c.id) : [ROOM];
    if (isChannelId(this.active) && !ids.includes(this.active)) ids.push(this.active);
    const seen = new Set(ids);
    for (const m of this.#room.presence.others) {
      ids.push(m.id);
      seen.add(m.id);
    }
    for (const [id, conv] of this.byId) {
      if (!seen.has(id) && !isChannelId(id) && conv.messages.length > 0 && id !== this.#room.youId) ids.push(id);
    }
    return ids;
  });

  activeConversation = $derived(this.byId.get(this.active));

  readonly #api: ChatApi;
  readonly #room: RoomState;
  readonly #isVisible: () => boolean;
  readonly #filesOf: (item: OutgoingMessage) => ChatMessage['files'];
  readonly #unread: UnreadReport;
  /** Messages asked for with loadAround, by conversation, until their page arrives. */
  readonly #revealing = new Map<ConversationId, number>();
  /** Gaps being filled between a page loaded around a message and the newer ones held (#bridge). */
  readonly #gaps = new Map<ConversationId, { top: number; bottom: number; pages: number; hasMore: boolean }>();
  /** What the welcome said about older history; conversations created later start with it. */
  #historyMayHaveMore = false;
  #noteId = 0;
  #typingSentAt: number | null = null;
  #typingConversation: ConversationId | null = null;

  constructor(api: ChatApi, room: RoomState, options: ConversationsOptions = {}) {
    this.#api = api;
    this.#room = room;
    this.#filesOf = options.filesOf ?? (() => undefined);
    this.#isVisible =
      options.isVisible ?? (() => typeof document === 'undefined' || document.visibilityState === 'visible');
    this.#unread = new UnreadReport(
      (total) => void this.#api.reportUnread({ total }),
      () => totalUnread([...this.byId.values()].map((c) => c.unread)),
    );
  }

  /** Returns the conversation, creating it on first use. Not for use inside $derived. */
  ensure(id: ConversationId): ConversationState {
    let conv = this.byId.get(id);
    if (!conv) {
      conv = new ConversationState(id, this.#historyMayHaveMore);
      this.byId.set(id, conv);
    }
    return conv;
  }

  conversation(id: ConversationId): ConversationState | undefined {
    return this.byId.get(id);
  }

  // ── facts, as the events tell them ───────────────────────────────────────

  /** A welcome: a fresh one starts the conversations over, a resumed one only adds what was missed. */
  entered(you: Member, history: readonly ChatMessage[], hasMore: boolean, resumed: boolean): void {
    if (!resumed) {
      this.#revealing.clear();
      this.#gaps.clear();
      this.#historyMayHaveMore = hasMore;
      for (const conv of this.byId.values()) {
        conv.reset();
        conv.hasMore = hasMore;
      }
      if (!this.byId.has(this.active)) this.active = ROOM;
    }
    for (const [id, list] of groupByConversation(history, you.id)) this.ensure(id).add(list);
    if (!resumed) this.ensure(ROOM).hasMore = hasMore;
    // The history can hold our own messages whose ack was lost with the connection: they are sent.
    for (const m of history) if (m.from === you.id) this.outgoing.resolve(m.clientId);
  }

  /**
   * Live messages, or a page of what was missed while away: merged into each
   * conversation once per page (a conversation may hold 100,000 messages, so
   * not once per message), and only those not already there count as unread.
   */
  received(messages: readonly ChatMessage[]): void {
    const me = this.#room.youId ?? '';
    const visible = this.#isVisible();
    for (const [id, list] of groupByConversation(messages, me)) {
      const conv = this.ensure(id);
      const seen = new Set<number>();
      const fresh = list.filter(
        (message) => !holdsSeq(conv.messages, message.seq) && !seen.has(message.seq) && seen.add(message.seq),
      );
      // All of them, not only the fresh: the host's copy of one of ours replaces the one its ack made.
      conv.add(list);
      for (const message of list) {
        if (message.from === me) this.outgoing.resolve(message.clientId);
        else this.#room.typing.stop(id, message.from);
      }
      const unread = fresh.filter((message) => countsAsUnread(message, me, this.active, visible));
      if (unread.length > 0) {
        conv.unread += unread.length;
        const myName = this.#room.presence.nameOf(me);
        conv.mentions += unread.filter((message) => mentionsMe(message, me, myName)).length;
        this.#unread.soon();
      }
    }
  }

  /** One of our messages as it was queued; its status can only come after this. */
  queued(message: OutgoingMessage): void {
    this.outgoing.upsert(message);
  }

  statusChanged(
    clientId: string,
    status: MessageStatus,
    seq?: number,
    error?: string,
    hostFiles?: ChatMessage['files'],
  ): void {
    if (status !== 'sent' || seq === undefined) {
      this.outgoing.setStatus(clientId, status, error);
      return;
    }
    const item = this.outgoing.resolve(clientId);
    const me = this.#room.youId;
    if (!item || me === null) return;
    // The acknowledged message takes its place in the conversation; a later echo of it is deduplicated by seq.
    const inChannel = isChannelId(item.conversation);
    const message: ChatMessage = {
      seq,
      from: me,
      to: inChannel ? null : item.conversation,
      text: item.text,
      ts: item.ts,
      clientId: item.clientId,
    };
    if (inChannel && item.conversation !== ROOM) message.channel = item.conversation;
    // The host's record when the acknowledgement carried it (v1.4), else what was sent from here.
    const files = hostFiles ?? this.#filesOf(item);
    if (files) message.files = files;
    const extras = this.outgoing.takeExtras(clientId);
    if (extras?.replyTo) message.replyTo = extras.replyTo;
    if (extras?.mentions?.length) message.mentions = extras.mentions;
    this.ensure(item.conversation).addAcknowledged(message);
  }

  olderPage(id: ConversationId, messages: readonly ChatMessage[], hasMore: boolean): void {
    const conv = this.ensure(id);
    const heldOldest = conv.oldestSeq;
    conv.add(messages);
    conv.hasMore = hasMore;
    conv.loadingOlder = false;
    this.#bridge(conv, messages, heldOldest, hasMore);
  }

  /**
   * A page loaded around a message (reveal) can be far older than what the conversation held: the
   * messages between them are asked for, page by page back from the held ones, so scrolling from
   * the message to the newest shows everything (at most GAP_PAGES pages; further back the gap stays).
   * A page belongs to the gap when it ends inside it; any other page (the person scrolling up from
   * the revealed message) leaves the gap alone.
   */
  #bridge(
    conv: ConversationState,
    messages: readonly ChatMessage[],
    heldOldest: number | null,
    hasMore: boolean,
  ): void {
    const newest = messages[messages.length - 1]?.seq;
    const target = this.#revealing.get(conv.id);
    if (target !== undefined && holdsSeq(messages, target)) {
      this.#revealing.delete(conv.id);
      if (heldOldest !== null && newest !== undefined && newest < heldOldest) {
        this.#fillGap(conv.id, { top: heldOldest, bottom: newest, pages: 0, hasMore });
      }
      return;
    }
    const gap = this.#gaps.get(conv.id);
    if (!gap || (newest !== undefined && newest <= gap.bottom)) return;
    const oldest = messages[0]?.seq;
    if (oldest === undefined || oldest <= gap.bottom || !hasMore || gap.pages + 1 >= GAP_PAGES) {
      this.#gaps.delete(conv.id);
      // The gap's pages said more is older; what the page around the message said stands.
      conv.hasMore = gap.hasMore;
      return;
    }
    this.#fillGap(conv.id, { ...gap, top: oldest, pages: gap.pages + 1 });
  }

  #fillGap(id: ConversationId, gap: { top: number; bottom: number; pages: number; hasMore: boolean }): void {
    this.#gaps.set(id, gap);
    void this.#api.loadOlder({ conversation: id, before: gap.top }).then((r) => {
      if (!r.ok) this.#gaps.delete(id);
    });
  }

  /** A line in the room when someone else comes or goes. */
  memberChanged(event: PresenceEvent, member: Member): void {
    if (member.id === this.#room.youId || (event !== 'joined' && event !== 'left')) return;
    const room = this.ensure(ROOM);
    room.addNote({
      id: `${++this.#noteId}`,
      afterSeq: room.newestSeq ?? -1,
      ts: Date.now(),
      text: `${member.name} ${event === 'joined' ? 'joined' : 'left'}`,
    });
  }

  left(): void {
    this.#revealing.clear();
    this.#gaps.clear();
    this.byId.clear();
    this.outgoing.clear();
    this.active = ROOM;
  }

  stop(): void {
    this.#unread.stop();
  }

  // ── commands ─────────────────────────────────────────────────────────────

  open(id: ConversationId): void {
    if (id !== this.active) {
      const leaving = this.byId.get(this.active);
      if (leaving) leaving.firstUnreadSeq = null;
    }
    this.active = id;
    const conv = this.ensure(id);
    if (conv.unread > 0) conv.markFirstUnread(this.#room.youId);
    this.markRead(id);
    if (conv.messages.length === 0 && conv.hasMore) this.loadOlder(id);
  }

  markRead(id: ConversationId): void {
    const conv = this.byId.get(id);
    if (!conv || (conv.unread === 0 && conv.mentions === 0)) return;
    conv.unread = 0;
    conv.mentions = 0;
    this.#unread.now();
  }

  /** Called when the window becomes visible again: what is on screen is now read. */
  seen(): void {
    this.byId.get(this.active)?.markFirstUnread(this.#room.youId);
    this.markRead(this.active);
  }

  loadOlder(id: ConversationId): void {
    const conv = this.ensure(id);
    if (conv.loadingOlder || !conv.hasMore) return;
    conv.loadingOlder = true;
    // An empty direct conversation asks for everything before the newest message anywhere.
    const before = conv.oldestSeq ?? this.#newestSeqAnywhere() + 1;
    void this.#api.loadOlder({ conversation: id, before }).then((r) => {
      if (!r.ok) {
        conv.loadingOlder = false;
        this.#room.notice = r.error.message;
      }
    });
  }

  /**
   * Opens a conversation at one message (a search hit): the message list scrolls to it and
   * highlights it once it holds it, after asking for its page when it is not loaded.
   */
  reveal(id: ConversationId, seq: number): void {
    this.open(id);
    const conv = this.ensure(id);
    conv.revealSeq = seq;
    if (holdsSeq(conv.messages, seq)) return;
    this.#revealing.set(id, seq);
    void this.#api.loadAround({ conversation: id, seq }).then((r) => {
      if (!r.ok) {
        if (conv.revealSeq === seq) conv.revealSeq = null;
        this.#room.notice = r.error.message;
      }
    });
  }

  #newestSeqAnywhere(): number {
    let newest = 0;
    for (const conv of this.byId.values()) newest = Math.max(newest, conv.newestSeq ?? 0);
    return newest;
  }

  /** The message appears through the `outgoing` event; the result says only whether it was taken. */
  /** v1.5: `replyTo` the message answered, `mentions` the ids of the members named as @Name. */
  async send(
    conversation: ConversationId,
    text: string,
    about: { replyTo?: ChatMessage; mentions?: string[] } = {},
  ): Promise<Result<SendReceipt>> {
    // The message itself tells the others we stopped typing: the next keystroke starts a new notice.
    this.#typingSentAt = null;
    const { replyTo, mentions } = about;
    const result = await this.#api.send({
      conversation,
      text,
      ...(replyTo ? { replyTo: replyTo.seq } : {}),
      ...(mentions?.length ? { mentions } : {}),
    });
    // The quote as the host will make it, shown until the host's copy of the message arrives.
    if (result.ok) {
      this.outgoing.remember(result.value.clientId, {
        ...(replyTo ? { replyTo: quoteOf(replyTo) } : {}),
        ...(mentions?.length ? { mentions } : {}),
      });
    }
    return result;
  }

  async retry(clientId: string): Promise<void> {
    this.outgoing.setStatus(clientId, 'pending');
    const result = await this.#api.retry({ clientId });
    if (!result.ok) this.outgoing.setStatus(clientId, 'failed', result.error.message);
  }

  /** Tells others we are typing, at most every few seconds per conversation. */
  typed(conversation: ConversationId, now = Date.now()): void {
    if (conversation !== this.#typingConversation) this.#typingSentAt = null;
    if (!shouldSendTyping(this.#typingSentAt, now)) return;
    this.#typingSentAt = now;
    this.#typingConversation = conversation;
    void this.#api.typing({ conversation });
  }
}

/** What a reply carries of `message` (§19.3), as the host will make it. */
function quoteOf(message: ChatMessage): NonNullable<ChatMessage['replyTo']> {
  const quote: NonNullable<ChatMessage['replyTo']> = {
    seq: message.seq,
    from: message.from,
    text: message.text.slice(0, WIRE_LIMITS.quoteChars),
  };
  if (message.files?.length) quote.files = message.files.length;
  return quote;
}

/** How many pages (of the client's page size) are loaded to join a revealed message to the newest. */
const GAP_PAGES = 20;

function groupByConversation(messages: readonly ChatMessage[], me: string): Map<ConversationId, ChatMessage[]> {
  const groups = new Map<ConversationId, ChatMessage[]>();
  for (const message of messages) {
    const id = conversationOf(message, me);
    let list = groups.get(id);
    if (!list) groups.set(id, (list = []));
    list.push(message);
  }
  return groups;
}

/** Whether seq-ordered `messages` holds `seq`: a binary search. */
function holdsSeq(messages: readonly ChatMessage[], seq: number): boolean {
  let low = 0;
  let high = messages.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const found = messages[middle]!.seq;
    if (found === seq) return true;
    if (found < seq) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
