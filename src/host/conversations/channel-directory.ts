/**
 * The room's channels (docs/PROTOCOL.md §19.2): the list every welcome carries, kept in memory
 * between changes, and who may do what with a `channel` request: create (everyone, or only the
 * host when the room says so), rename and archive (the channel's creator or the host; the default
 * channel only the host, and it is never archived), up to the room's cap. "The host" is a member
 * connected from the host's own machine. Names unique ignoring case and look-alikes are the
 * store's to keep, as it stores the change.
 */
import { checkDisplayName } from '../../shared/display-name.ts';
import { BeaconError, type ErrorCode } from '../../shared/errors.ts';
import {
  type Channel,
  type ChannelRequestFrame,
  DEFAULT_CHANNEL,
  type Update,
  WIRE_LIMITS,
} from '../../shared/protocol.ts';
import type { HistoryStore } from '../store/history-store.ts';

/** Who asks: a member, and whether it is connected from the host's own machine ("the host"). */
export interface Asker {
  id: string;
  fromHostMachine: boolean;
}

export type ChannelOutcome =
  { ok: true; update: Extract<Update, { kind: 'channel' }> } | { ok: false; code: ErrorCode; detail?: string };

const refused = (code: ErrorCode, detail?: string): Extract<ChannelOutcome, { ok: false }> => ({
  ok: false,
  code,
  ...(detail === undefined ? {} : { detail }),
});

export class ChannelDirectory {
  readonly #store: HistoryStore;
  readonly #maxChannels: number;
  readonly #maxPerMember: number;
  readonly creators: 'everyone' | 'host';
  /** Every channel, the default first: read once, and again after each change. */
  #list: Channel[];
  #byId: Map<string, Channel>;

  constructor(options: {
    store: HistoryStore;
    maxChannels: number;
    maxChannelsPerMember: number;
    creators: 'everyone' | 'host';
  }) {
    this.#store = options.store;
    this.#maxChannels = options.maxChannels;
    this.#maxPerMember = options.maxChannelsPerMember;
    this.creators = options.creators;
    this.#list = this.#store.channels();
    this.#byId = new Map(this.#list.map((channel) => [channel.id, channel]));
  }

  /** Every channel, the default first, archived ones included. */
  list(): readonly Channel[] {
    return this.#list;
  }

  get(id: string): Channel | undefined {
    return this.#byId.get(id);
  }

  /** Whether `asker` may create channels in this room. */
  mayCreate(asker: Asker): boolean {
    return this.creators === 'everyone' || asker.fromHostMachine;
  }

  request(asker: Asker, frame: ChannelRequestFrame, now: number): ChannelOutcome {
    try {
      const update = this.#apply(asker, frame, now);
      if (!update.ok) return update;
      this.#list = this.#store.channels();
      this.#byId = new Map(this.#list.map((channel) => [channel.id, channel]));
      return update;
    } catch (error) {
      // The store's refusals (a look-alike name, an unknown channel) are answers, not failures.
      if (error instanceof BeaconError) return refused(error.code);
      throw error;
    }
  }

  #apply(asker: Asker, frame: ChannelRequestFrame, now: number): ChannelOutcome {
    if (frame.op === 'create') {
      if (!this.mayCreate(asker)) return refused('BEACON_ERR_NOT_ALLOWED', 'only the host creates channels here');
      if (frame.name === undefined) return refused('BEACON_ERR_MALFORMED', 'channel.name: required to create');
      const name = checkName(frame.name);
      if (!name.ok) return name;
      // The default channel is not counted: maxChannels are the ones members made.
      if (this.#list.length - 1 >= this.#maxChannels) return refused('BEACON_ERR_TOO_MANY_CHANNELS');
      // One member alone cannot use up the room's channels (nothing deletes one); the host may.
      const own = this.#list.filter((channel) => channel.createdBy === asker.id).length;
      if (!asker.fromHostMachine && own >= this.#maxPerMember)
        return refused('BEACON_ERR_TOO_MANY_CHANNELS', `at most ${this.#maxPerMember} channels per member`);
      return {
        ok: true,
        update: this.#channelUpdate(
          this.#store.createChannel({ name: name.name, topic: frame.topic, by: asker.id, ts: now }),
        ),
      };
    }
    if (frame.id === undefined) return refused('BEACON_ERR_MALFORMED', 'channel.id: required');
    const channel = this.#byId.get(frame.id);
    if (!channel) return refused('BEACON_ERR_NO_SUCH_CHANNEL');
    // The default channel has no creator: only the host changes it.
    if (!asker.fromHostMachine && (channel.createdBy === null || channel.createdBy !== asker.id))
      return refused('BEACON_ERR_NOT_ALLOWED');
    if (frame.op === 'archive') {
      if (frame.archived === undefined) return refused('BEACON_ERR_MALFORMED', 'channel.archived: required to archive');
      if (channel.id === DEFAULT_CHANNEL)
        return refused('BEACON_ERR_NOT_ALLOWED', 'the default channel cannot be archived');
      return {
        ok: true,
        update: this.#channelUpdate(
          this.#store.updateChannel({ id: channel.id, by: asker.id, ts: now, archived: frame.archived }),
        ),
      };
    }
    if (frame.name === undefined && frame.topic === undefined)
      return refused('BEACON_ERR_MALFORMED', 'channel: a name or a topic is required to update');
    let name: string | undefined;
    if (frame.name !== undefined) {
      const checked = checkName(frame.name);
      if (!checked.ok) return checked;
      name = checked.name;
    }
    return {
      ok: true,
      update: this.#channelUpdate(
        this.#store.updateChannel({
          id: channel.id,
          by: asker.id,
          ts: now,
          ...(name === undefined ? {} : { name }),
          ...(frame.topic === undefined ? {} : { topic: frame.topic }),
        }),
      ),
    };
  }

  #channelUpdate(update: Update): Extract<Update, { kind: 'channel' }> {
    if (update.kind !== 'channel') throw new Error(`the store answered a channel change with a ${update.kind} update`);
    return update;
  }
}

/**
 * A channel's name follows a member name's rules (§5.5): nothing invisible, nothing that reorders
 * the line, whitespace collapsed; so two names that look the same are caught as the same.
 */
function checkName(raw: string): { ok: true; name: string } | Extract<ChannelOutcome, { ok: false }> {
  const checked = checkDisplayName(raw, WIRE_LIMITS.channelNameChars);
  return checked.ok ? checked : refused('BEACON_ERR_MALFORMED', `channel.name: ${checked.reason}`);
}
