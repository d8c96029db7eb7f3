import type { ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';
import { mergeBySeq, type MergeKind } from '../lib/conversation.ts';
import { applyToMessage, requote, type MessageUpdate } from '../../../shared/message-updates.ts';
import type { PresenceNote } from '../lib/timeline.ts';

/** One conversation's loaded messages, seq-ordered and deduplicated. */
export class ConversationState {
  readonly id: ConversationId;
  // Raw state: a conversation can hold 100,000 messages, too many to proxy deeply.
  messages = $state.raw<readonly ChatMessage[]>([]);
  notes = $state.raw<readonly PresenceNote[]>([]);
  hasMore = $state(false);
  loadingOlder = $state(false);
  unread = $state(0);
  /** How many of the unread messages mention the reader (v1.5): the separate mention badge. */
  mentions = $state(0);
  /**
   * A message to bring into view and highlight briefly (a search hit or a reply's quote, opened in
   * place): the message list scrolls to it once it holds it (its page may still be on its way),
   * then sets this back to null.
   */
  revealSeq = $state<number | null>(null);
  /**
   * The first message that was unread when the person last came to this
   * conversation: the list draws "new since you last read" above it. Set when
   * the conversation is opened (or the window shown again) with unread
   * messages, cleared when the person leaves it.
   */
  firstUnreadSeq = $state<number | null>(null);
  /** Where the last change put new items; the list keeps its anchor from the end on 'prepend'. */
  lastChange = $state<MergeKind | 'reset'>('reset');

  oldestSeq = $derived(this.messages[0]?.seq ?? null);
  newestSeq = $derived(this.messages[this.messages.length - 1]?.seq ?? null);

  constructor(id: ConversationId, hasMore = false) {
    this.id = id;
    this.hasMore = hasMore;
  }

  /**
   * Our own messages made from an acknowledgement, before the host's copy arrives: that copy
   * replaces them (it carries the quote and the mentions as the host kept them).
   */
  readonly #provisional = new WeakSet<ChatMessage>();

  add(messages: readonly ChatMessage[]): MergeKind {
    const { messages: merged, kind } = mergeBySeq(this.messages, messages);
    const next = this.#replaceProvisional(merged, messages);
    if (kind !== 'none' || next !== this.messages) {
      this.messages = next;
      if (kind !== 'none') this.lastChange = kind;
    }
    return kind;
  }

  /** One of our messages as its acknowledgement made it; the host's echo replaces it. */
  addAcknowledged(message: ChatMessage): MergeKind {
    this.#provisional.add(message);
    return this.add([message]);
  }

  #replaceProvisional(held: readonly ChatMessage[], incoming: readonly ChatMessage[]): readonly ChatMessage[] {
    let out: ChatMessage[] | null = null;
    for (const message of incoming) {
      const index = indexOfSeq(held, message.seq);
      if (index < 0 || held[index] === message || !this.#provisional.has(held[index]!)) continue;
      out ??= held.slice();
      out[index] = message;
    }
    return out ?? held;
  }

  /**
   * Edits, deletions and reactions (v1.5), oldest first: each applied to the message it is about
   * when this conversation holds it, and to the quotes of replies to it. Returns whether anything
   * changed; one about a message not held is dropped (its page will carry it as it stands).
   */
  applyUpdates(updates: readonly MessageUpdate[]): boolean {
    let out: ChatMessage[] | null = null;
    const changed = new Map<number, ChatMessage>();
    for (const update of updates) {
      const list = out ?? this.messages;
      const index = indexOfSeq(list, update.target);
      if (index < 0) continue;
      const before = list[index]!;
      const after = applyToMessage(before, update);
      if (after === before) continue;
      out ??= this.messages.slice();
      out[index] = after;
      if (update.kind !== 'react') changed.set(after.seq, after);
    }
    if (!out) return false;
    if (changed.size > 0) {
      for (let i = 0; i < out.length; i++) {
        const quote = out[i]!.replyTo;
        const original = quote && changed.get(quote.seq);
        if (!quote || !original) continue;
        const next = requote(quote, original);
        if (next !== quote) out[i] = { ...out[i]!, replyTo: next };
      }
    }
    this.messages = out;
    return true;
  }

  /** Whether this conversation holds message `seq`. */
  holds(seq: number): boolean {
    return indexOfSeq(this.messages, seq) >= 0;
  }

  /** The message `seq`, when held. */
  find(seq: number): ChatMessage | undefined {
    return this.messages[indexOfSeq(this.messages, seq)];
  }

  /** Puts the "new since you last read" mark above the oldest of the `unread` newest messages from others. */
  markFirstUnread(me: string | null): void {
    if (this.unread === 0) return;
    let left = this.unread;
    for (let i = this.messages.length - 1; i >= 0; i--) {
      if (this.messages[i]!.from === me) continue;
      if (--left === 0) {
        this.firstUnreadSeq = this.messages[i]!.seq;
        return;
      }
    }
    this.firstUnreadSeq = this.messages[0]?.seq ?? null;
  }

  addNote(note: PresenceNote): void {
    this.notes = [...this.notes, note];
    this.lastChange = 'append';
  }

  reset(): void {
    this.messages = [];
    this.notes = [];
    this.loadingOlder = false;
    this.firstUnreadSeq = null;
    this.lastChange = 'reset';
  }
}

/** Where seq-ordered `messages` holds `seq`, or -1: a binary search. */
function indexOfSeq(messages: readonly ChatMessage[], seq: number): number {
  let low = 0;
  let high = messages.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const found = messages[middle]!.seq;
    if (found === seq) return middle;
    if (found < seq) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
