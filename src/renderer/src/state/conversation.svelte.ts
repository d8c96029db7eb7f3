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

  addNote(note: PresenceNote): void {
    this.notes = [...this.notes, note];
    this.lastChange = 'append';
  }

  reset(): void {
    this.messages = [];
    this.notes = [];
    this.loadingOlder = false;
    this.lastChange = 'reset';
  }
}
