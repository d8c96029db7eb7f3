import type { ConversationId, MessageStatus, OutgoingMessage } from '../../../shared/chat-api.ts';

/** This user's messages the host has not acknowledged yet, or refused. */
export class OutgoingState {
  items = $state.raw<readonly OutgoingMessage[]>([]);
  /**
   * clientIds already acknowledged: a late `send` result or `outgoing` event
   * for them must not bring back a pending copy.
   */
  #done = new Set<string>();

  upsert(message: OutgoingMessage): void {
    if (this.#done.has(message.clientId)) return;
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
    this.#done.add(clientId);
    const item = this.items.find((m) => m.clientId === clientId) ?? null;
    if (item) this.items = this.items.filter((m) => m.clientId !== clientId);
    return item;
  }

  in(conversation: ConversationId): OutgoingMessage[] {
    return this.items.filter((m) => m.conversation === conversation);
  }

  replaceAll(items: readonly OutgoingMessage[]): void {
    this.items = items.filter((m) => !this.#done.has(m.clientId));
  }
}
