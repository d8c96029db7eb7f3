import type { ConversationId } from '../../../shared/chat-api.ts';
import { clearTyping, clearTypingBy, pruneTyping, renewTyping, typingIn, type TypingEntries } from '../lib/typing.ts';

/** Who is typing where, until their notice expires, they send, or they leave. */
export class TypingState {
  entries = $state.raw<TypingEntries>(new Map());

  renew(conversation: ConversationId, from: string, now: number): void {
    this.entries = renewTyping(this.entries, conversation, from, now);
  }

  stop(conversation: ConversationId, from: string): void {
    this.entries = clearTyping(this.entries, conversation, from);
  }

  /** Someone who left is typing nowhere. */
  stopAll(from: string): void {
    this.entries = clearTypingBy(this.entries, from);
  }

  prune(now: number): void {
    this.entries = pruneTyping(this.entries, now);
  }

  in(conversation: ConversationId, now: number): string[] {
    return typingIn(this.entries, conversation, now);
  }

  clear(): void {
    this.entries = new Map();
  }
}
