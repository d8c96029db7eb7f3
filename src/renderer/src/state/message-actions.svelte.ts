import { SvelteMap } from 'svelte/reactivity';
import * as v from 'valibot';
import type { ChatApi, ConversationId } from '../../../shared/chat-api.ts';
import { Emoji, type ChatMessage } from '../../../shared/protocol.ts';
import type { ConversationsState } from './conversations.svelte.ts';
import type { RoomState } from './room.svelte.ts';

/**
 * What a person does to messages already there (v1.5): answer one, edit or
 * delete their own, react. Holds what is in progress (the reply the composer
 * is writing, the message being edited, the deletion waiting for a yes) and
 * why the host refused, next to the message it was about. The changes
 * themselves come back as 'updates' events, like everyone else's.
 */
export class MessageActionsState {
  /** The message the composer answers, per conversation. */
  readonly replyingTo = new SvelteMap<ConversationId, ChatMessage>();
  /** The seq of the message edited in place, or null. */
  editing = $state<number | null>(null);
  /** The message whose deletion waits for the person's yes. */
  confirmingDelete = $state.raw<ChatMessage | null>(null);
  /** Why the host refused an edit, a deletion or a reaction, by the message's seq. */
  readonly errors = new SvelteMap<number, string>();

  /** What the host can do (welcome.features): what it lacks is not offered. */
  canReply = $derived(this.#features().includes('replies'));
  canEdit = $derived(this.#features().includes('edits'));
  canReact = $derived(this.#features().includes('reactions'));
  canMention = $derived(this.#features().includes('mentions'));

  readonly #api: ChatApi;
  readonly #conversations: ConversationsState;
  readonly #room: RoomState;

  constructor(api: ChatApi, conversations: ConversationsState, room: RoomState) {
    this.#api = api;
    this.#conversations = conversations;
    this.#room = room;
  }

  #features(): readonly string[] {
    return this.#room.channels.features;
  }

  /** Whether `message` is this person's own, still there to edit or delete. */
  isOwn(message: ChatMessage): boolean {
    return message.from === this.#room.youId && !message.deleted;
  }

  reply(conversation: ConversationId, message: ChatMessage): void {
    this.replyingTo.set(conversation, message);
  }

  cancelReply(conversation: ConversationId): void {
    this.replyingTo.delete(conversation);
  }

  startEdit(message: ChatMessage): void {
    if (!this.canEdit || !this.isOwn(message)) return;
    this.errors.delete(message.seq);
    this.editing = message.seq;
  }

  cancelEdit(): void {
    this.editing = null;
  }

  /** This person's newest message in `conversation` that can still be edited (Up in an empty composer). */
  lastEditable(conversation: ConversationId): ChatMessage | undefined {
    const messages = this.#conversations.conversation(conversation)?.messages ?? [];
    for (let i = messages.length - 1; i >= 0; i--) if (this.isOwn(messages[i]!)) return messages[i];
    return undefined;
  }

  /** Saves an edit; true once the host took it (the new text arrives as an update). */
  async saveEdit(message: ChatMessage, text: string, mentions: string[]): Promise<boolean> {
    if (text === message.text && this.editing === message.seq) {
      this.editing = null;
      return true;
    }
    const result = await this.#api.edit({ seq: message.seq, text, ...(mentions.length > 0 ? { mentions } : {}) });
    if (!result.ok) {
      this.errors.set(message.seq, result.error.message);
      return false;
    }
    this.errors.delete(message.seq);
    if (this.editing === message.seq) this.editing = null;
    return true;
  }

  askDelete(message: ChatMessage): void {
    if (this.canEdit && this.isOwn(message)) this.confirmingDelete = message;
  }

  async confirmDelete(): Promise<void> {
    const message = this.confirmingDelete;
    this.confirmingDelete = null;
    if (!message) return;
    if (this.editing === message.seq) this.editing = null;
    const result = await this.#api.deleteMessage({ seq: message.seq });
    if (result.ok) this.errors.delete(message.seq);
    else this.errors.set(message.seq, result.error.message);
  }

  /** Whether this person reacted to `message` with `emoji`. */
  reacted(message: ChatMessage, emoji: string): boolean {
    const me = this.#room.youId;
    return message.reactions?.some((r) => r.emoji === emoji && me !== null && r.by.includes(me)) ?? false;
  }

  /**
   * Adds this person's `emoji` to `message`, or takes it back when it was there. Anything that is
   * not exactly one emoji is refused here, with the reason, before the host could refuse it.
   */
  async toggleReaction(message: ChatMessage, emoji: string): Promise<string | null> {
    const parsed = v.safeParse(Emoji, emoji);
    if (!parsed.success) return 'That is not a single emoji.';
    const result = await this.#api.react({ seq: message.seq, emoji, on: !this.reacted(message, emoji) });
    if (!result.ok) {
      this.errors.set(message.seq, result.error.message);
      return result.error.message;
    }
    this.errors.delete(message.seq);
    return null;
  }

  /** Opens `conversation` at message `seq` (a reply's quote): loaded first when it is not. */
  jumpTo(conversation: ConversationId, seq: number): void {
    this.#conversations.reveal(conversation, seq);
  }

  left(): void {
    this.replyingTo.clear();
    this.errors.clear();
    this.editing = null;
    this.confirmingDelete = null;
  }
}
