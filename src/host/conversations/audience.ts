/**
 * Who is sent what once a room has channels (docs/PROTOCOL.md §19.1, §19.6): a frame about a
 * message of the default channel goes to every member, one of another channel only to connections
 * that said they understand channels, and one of a direct conversation to its two people. Messages,
 * typing notices and updates all take this one path, so an edit or a reaction reaches a room exactly
 * as a message does: through the tick writer's broadcast, serialised once for everyone it goes to.
 */
import { DEFAULT_CHANNEL } from '../../shared/protocol.ts';
import type { Connection } from '../connection.ts';
import type { Members } from '../members.ts';
import type { Outlet, TickWriter } from '../tick-writer.ts';

/** Where a message (or a typing notice) belongs: its author, its recipient (null: the room) and its channel. */
export interface Place {
  from: string;
  to: string | null;
  /** Absent (or "room") for the default channel. */
  channel?: string;
}

/** A channel other than the default one: seen only by connections that understand channels. */
export const isOtherChannel = (channel: string | undefined): boolean =>
  channel !== undefined && channel !== DEFAULT_CHANNEL;

// A filter the broadcast calls once per member: reading one boolean keeps the common case as cheap as before.
const understandsChannels = (outlet: Outlet): boolean => (outlet as Connection).channels;

/** Whether `viewer` (a member id, and whether its connection understands channels) may see a message of `place`. */
export function maySee(place: Place, viewer: string, channels: boolean): boolean {
  if (place.to !== null) return place.from === viewer || place.to === viewer;
  return channels || !isOtherChannel(place.channel);
}

export class Audience {
  readonly #writer: TickWriter;
  readonly #members: Members;

  constructor(options: { writer: TickWriter; members: Members }) {
    this.#writer = options.writer;
    this.#members = options.members;
  }

  /** `item` to everyone who may see a message of `place`, except `except` (the sender of a new message). */
  send(item: string, place: Place, except: Connection | null): void {
    if (place.to !== null) {
      for (const id of place.from === place.to ? [place.from] : [place.from, place.to]) {
        const connection = this.#members.get(id)?.connection;
        if (connection && connection !== except) this.#writer.queue(connection, item);
      }
      return;
    }
    if (isOtherChannel(place.channel)) this.#writer.broadcast(item, except, understandsChannels);
    else this.#writer.broadcast(item, except);
  }

  /** `item` to every connection that understands channels (a channel's own record changed). */
  toChannelClients(item: string): void {
    this.#writer.broadcast(item, null, understandsChannels);
  }
}
