import type { ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';
import { mergeBySeq, type MergeKind } from '../lib/conversation.ts';
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

  add(messages: readonly ChatMessage[]): MergeKind {
    const { messages: next, kind } = mergeBySeq(this.messages, messages);
    if (kind !== 'none') {
      this.messages = next;
      this.lastChange = kind;
    }
    return kind;
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
