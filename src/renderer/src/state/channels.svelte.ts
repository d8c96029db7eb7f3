import { type ChatApi, type ConversationId, type Result, type RoomView } from '../../../shared/chat-api.ts';
import { DEFAULT_CHANNEL, type Channel, type Update } from '../../../shared/protocol.ts';

/** Channels in the order the sidebar lists them: the default one first, then by name as people read names. */
export function channelOrder(a: Channel, b: Channel): number {
  if (a.id === DEFAULT_CHANNEL) return -1;
  if (b.id === DEFAULT_CHANNEL) return 1;
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true }) || a.id.localeCompare(b.id);
}

/**
 * The room's channels (v1.5) as the host last described them, what this member may do with them,
 * and the requests that change them. The host decides: a request's answer and the 'channel' update
 * that follows it both carry the whole record, and either one puts it here (twice is harmless).
 * An older host has no channels: then `supported` is false and only the room is listed.
 */
export class ChannelsState {
  /** Every channel, archived ones included, by id. */
  byId = $state.raw<ReadonlyMap<ConversationId, Channel>>(new Map());
  /** What the host can do (welcome.features): 'channels', 'search', … Empty for an older host. */
  features = $state.raw<readonly string[]>([]);
  canCreate = $state(false);
  /** Joined from the host's machine: may rename and archive any channel. */
  isHost = $state(false);

  supported = $derived(this.features.includes('channels'));
  searchable = $derived(this.features.includes('search'));
  /** Channels open for messages, in sidebar order. */
  open = $derived([...this.byId.values()].filter((c) => !c.archived).sort(channelOrder));
  archived = $derived([...this.byId.values()].filter((c) => c.archived).sort(channelOrder));

  readonly #api: ChatApi;

  constructor(api: ChatApi) {
    this.#api = api;
  }

  get(id: ConversationId): Channel | undefined {
    return this.byId.get(id);
  }

  /** Whether `member` may rename the channel, change its topic or archive it: its creator, or the host. */
  canManage(id: ConversationId, member: string | null): boolean {
    const channel = this.byId.get(id);
    if (!channel || !this.supported) return false;
    return this.isHost || (member !== null && channel.createdBy === member);
  }

  // ── facts, as the events tell them ───────────────────────────────────────

  entered(room: RoomView): void {
    this.features = room.features ?? [];
    this.canCreate = room.canCreateChannels === true;
    this.isHost = room.isHost === true;
    const next = new Map<ConversationId, Channel>();
    for (const channel of room.channels ?? []) next.set(channel.id, channel);
    this.byId = next;
  }

  /** Updates of kind 'channel' (live, or caught up on a resume); the other kinds are the messages' business. */
  updated(updates: readonly Update[]): void {
    let next: Map<ConversationId, Channel> | null = null;
    for (const update of updates) {
      if (update.kind !== 'channel') continue;
      next ??= new Map(this.byId);
      next.set(update.channel.id, update.channel);
    }
    if (next) this.byId = next;
  }

  left(): void {
    this.byId = new Map();
    this.features = [];
    this.canCreate = false;
    this.isHost = false;
  }

  // ── commands: each answers with the channel as the host now has it ────────

  async create(name: string, topic: string): Promise<Result<Channel>> {
    return this.#learn(await this.#api.createChannel({ name, topic }));
  }

  async edit(id: ConversationId, change: { name?: string; topic?: string }): Promise<Result<Channel>> {
    return this.#learn(await this.#api.updateChannel({ id, ...change }));
  }

  async archive(id: ConversationId, archived: boolean): Promise<Result<Channel>> {
    return this.#learn(await this.#api.archiveChannel({ id, archived }));
  }

  #learn(result: Result<Channel>): Result<Channel> {
    if (result.ok) {
      const next = new Map(this.byId);
      next.set(result.value.id, result.value);
      this.byId = next;
    }
    return result;
  }
}
