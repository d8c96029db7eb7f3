/**
 * A scriptable ChatApi for component tests: records every command, answers
 * with canned results, and lets the test push any ChatEvent.
 */
import type {
  Capabilities,
  ChatApi,
  ChatEvent,
  CommandInput,
  CommandName,
  CommandOutput,
  OutgoingMessage,
  Result,
  ChatSnapshot,
} from '../../src/shared/chat-api.ts';

export interface RecordedCall {
  name: CommandName;
  input: unknown;
}

type Responder = (input: unknown) => Result<unknown>;

export class FakeChatApi implements ChatApi {
  readonly capabilities: Capabilities;
  readonly calls: RecordedCall[] = [];
  snapshot: ChatSnapshot;
  /** Per-command overrides; each answers one call and is then removed. */
  readonly queued = new Map<CommandName, Responder[]>();
  #listeners = new Set<(event: ChatEvent) => void>();
  #clientIds = 0;

  constructor(capabilities: Capabilities, snapshot: ChatSnapshot) {
    this.capabilities = capabilities;
    this.snapshot = snapshot;
  }

  emit(event: ChatEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  onEvent(listener: (event: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  respondOnce(name: CommandName, result: Result<unknown>): void {
    const list = this.queued.get(name) ?? [];
    list.push(() => result);
    this.queued.set(name, list);
  }

  #call<K extends CommandName>(
    name: K,
    input: unknown,
    fallback: () => CommandOutput<K>,
  ): Promise<Result<CommandOutput<K>>> {
    this.calls.push({ name, input });
    const responder = this.queued.get(name)?.shift();
    // Queued results are written by the test for this exact command.
    const result = responder
      ? (responder(input) as Result<CommandOutput<K>>)
      : { ok: true as const, value: fallback() };
    return Promise.resolve(result);
  }

  host(input: CommandInput<'host'>) {
    return this.#call('host', input, () => ({
      roomName: input.roomName,
      port: input.port,
      code: input.code || null,
      addresses: [`ws://192.168.1.20:${input.port}`],
      webAddresses: [`http://192.168.1.20:${input.port}`],
    }));
  }
  join(input: CommandInput<'join'>) {
    return this.#call('join', input, () => null);
  }
  leave() {
    return this.#call('leave', undefined, () => null);
  }
  /** Like the real ones: the pending message arrives as an `outgoing` event, the reply is a receipt. */
  send(input: CommandInput<'send'>) {
    return this.#call('send', input, () => {
      const message: OutgoingMessage = {
        clientId: `client-${++this.#clientIds}`,
        conversation: input.conversation,
        text: input.text,
        ts: Date.now(),
        status: 'pending',
      };
      this.emit({ type: 'outgoing', message });
      return { clientId: message.clientId };
    });
  }
  retry(input: CommandInput<'retry'>) {
    return this.#call('retry', input, () => null);
  }
  retryNow() {
    return this.#call('retryNow', undefined, () => null);
  }
  typing(input: CommandInput<'typing'>) {
    return this.#call('typing', input, () => null);
  }
  setStatus(input: CommandInput<'setStatus'>) {
    return this.#call('setStatus', input, () => null);
  }
  loadOlder(input: CommandInput<'loadOlder'>) {
    return this.#call('loadOlder', input, () => null);
  }
  reportUnread(input: CommandInput<'reportUnread'>) {
    return this.#call('reportUnread', input, () => null);
  }

  setPreferences(input: CommandInput<'setPreferences'>) {
    return this.#call('setPreferences', input, () => null);
  }
  getState() {
    return this.#call('getState', undefined, () => this.snapshot);
  }
}

/** A session with nothing in it yet: the starting point tests override. */
export const emptySnapshot: ChatSnapshot = {
  connection: { kind: 'idle' },
  room: null,
  history: [],
  hasMore: false,
  outgoing: [],
  hostInfo: null,
  displayName: '',
  recentRooms: [],
  preferences: { notifyDirect: true, notifyMentions: true },
};
