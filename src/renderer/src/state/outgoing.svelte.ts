import { SvelteMap } from 'svelte/reactivity';
import type { ConversationId, MessageStatus, OutgoingMessage } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';

/** What a message of ours says beyond its text (v1.5), kept until the host's copy carries it. */
export type OutgoingExtras = Pick<ChatMessage, 'replyTo' | 'mentions'>;

/**
 * This user's messages the host has not acknowledged yet, or refused. Each
 * arrives once, as an `outgoing` event before any status of it, so nothing
 * here has to remember messages it has already let go of.
 */
export class OutgoingState {
  items = $state.raw<readonly OutgoingMessage[]>([]);
  /** The quote and mentions each of our replies went with, by clientId: the row shows the quote while it is pending. */
  readonly extras = new SvelteMap<string, OutgoingExtras>();

  upsert(message: OutgoingMessage): void {
    const index = this.items.findIndex((m) => m.clientId === message.clientId);
    if (index < 0) this.items = [...this.items, message];
    else this.items = this.items.map((m, i) => (i === index ? message : m));
  }

  setStatus(clientId: string, status: MessageStatus, error?: string): void {
    this.items = this.items.map((m) => {
      if (m.clientId !== clientId) return m;
      const next: OutgoingMessage = { ...m, status };
      if (error !== undefined) next.error = error;
      else delete next.error;
      return next;
    });
  }

  /** Removes an acknowledged message and returns it so it can join the conversation. */
  resolve(clientId: string): OutgoingMessage | null {
    const item = this.items.find((m) => m.clientId === clientId) ?? null;
    if (item) this.items = this.items.filter((m) => m.clientId !== clientId);
    return item;
  }

  /** Remembers what a message went with beyond its text (nothing when it went with nothing). */
  remember(clientId: string, extras: OutgoingExtras): void {
    if (extras.replyTo || extras.mentions?.length) this.extras.set(clientId, extras);
  }

  /** What a message went with, once: the acknowledged message takes it over. */
  takeExtras(clientId: string): OutgoingExtras | undefined {
    const extras = this.extras.get(clientId);
    this.extras.delete(clientId);
    return extras;
  }

  in(conversation: ConversationId): OutgoingMessage[] {
    return this.items.filter((m) => m.conversation === conversation);
  }

  clear(): void {
    this.items = [];
    this.extras.clear();
  }
}
