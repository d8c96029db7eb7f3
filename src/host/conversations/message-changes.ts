/**
 * Requests about messages already stored (docs/PROTOCOL.md §19.4, §19.5): `edit`, `delete` and
 * `react`. Each is checked (the target exists and the asker may see it, only its author edits or
 * deletes it, an archived channel takes no edit or reaction, at most 20 emoji), stored, answered
 * with `done` to the asker and sent as an update to everyone who may see the target.
 *
 * A target the asker may not see is answered exactly like one that does not exist: guessing the
 * seqs of other people's direct messages must tell nothing.
 */
import { BeaconError, type ErrorCode } from '../../shared/errors.ts';
import {
  type ChatMessage,
  type DeleteFrame,
  type EditFrame,
  encode,
  type ReactFrame,
  type Update,
} from '../../shared/protocol.ts';
import type { Connection, Replies } from '../connection.ts';
import type { MemberState } from '../members.ts';
import type { HistoryStore } from '../store/history-store.ts';
import type { TickWriter } from '../tick-writer.ts';
import { type Audience, maySee } from './audience.ts';
import type { ChannelDirectory } from './channel-directory.ts';
import { keptMentions } from './mentions.ts';

type Found = { ok: true; message: ChatMessage } | { ok: false; code: ErrorCode };

export class MessageChanges {
  readonly #store: HistoryStore;
  readonly #channels: ChannelDirectory;
  readonly #audience: Audience;
  readonly #writer: TickWriter;
  readonly #replies: Replies;

  constructor(options: {
    store: HistoryStore;
    channels: ChannelDirectory;
    audience: Audience;
    writer: TickWriter;
    replies: Replies;
  }) {
    this.#store = options.store;
    this.#channels = options.channels;
    this.#audience = options.audience;
    this.#writer = options.writer;
    this.#replies = options.replies;
  }

  edit(connection: Connection, member: MemberState, frame: EditFrame): void {
    const found = this.#target(connection, member, frame.target, { own: true, writing: true });
    if (!found.ok) return this.#refuse(connection, found.code, frame.ref);
    if (frame.text.trim().length === 0 && !found.message.files?.length)
      return this.#refuse(connection, 'BEACON_ERR_EMPTY', frame.ref);
    const mentions = keptMentions(this.#store, frame.mentions);
    this.#change(connection, frame.ref, found.message, () =>
      this.#store.editMessage({ seq: frame.target, by: member.id, text: frame.text, mentions, ts: Date.now() }),
    );
  }

  delete(connection: Connection, member: MemberState, frame: DeleteFrame): void {
    // An archived channel keeps its history, but its authors may still take their words back.
    const found = this.#target(connection, member, frame.target, { own: true, writing: false });
    if (!found.ok) return this.#refuse(connection, found.code, frame.ref);
    this.#change(connection, frame.ref, found.message, () =>
      this.#store.deleteMessage({ seq: frame.target, by: member.id, ts: Date.now() }),
    );
  }

  react(connection: Connection, member: MemberState, frame: ReactFrame): void {
    const found = this.#target(connection, member, frame.target, { own: false, writing: true });
    if (!found.ok) return this.#refuse(connection, found.code, frame.ref);
    this.#change(connection, frame.ref, found.message, () =>
      this.#store.react({ seq: frame.target, by: member.id, emoji: frame.emoji, on: frame.on, ts: Date.now() }),
    );
  }

  /**
   * Stores a change, sends its update to everyone who may see `target` (the asker too) and then
   * `done` to the asker, so the asker's own copy has changed when its request is answered. A
   * change that changes nothing (a reaction already there) is answered with the target's seq.
   */
  #change(connection: Connection, ref: string, target: ChatMessage, store: () => Update | null): void {
    let update: Update | null;
    try {
      update = store();
    } catch (error) {
      if (error instanceof BeaconError) return this.#refuse(connection, error.code, ref);
      throw error;
    }
    if (update) this.#audience.send(encode({ type: 'update', update }), target, null);
    this.#writer.queue(connection, encode({ type: 'done', ref, seq: update?.seq ?? target.seq }));
  }

  /**
   * The message `seq`, if `member` may see it on this connection and it is not deleted (and, with
   * `own`, `member` wrote it; with `writing`, its channel is not archived).
   */
  #target(
    connection: Connection,
    member: MemberState,
    seq: number,
    { own, writing }: { own: boolean; writing: boolean },
  ): Found {
    const message = this.#store.getMessage(seq);
    if (!message || message.deleted || !maySee(message, member.id, connection.channels))
      return { ok: false, code: 'BEACON_ERR_NO_SUCH_MESSAGE' };
    if (own && message.from !== member.id) return { ok: false, code: 'BEACON_ERR_NOT_YOURS' };
    if (writing && message.channel !== undefined && this.#channels.get(message.channel)?.archived)
      return { ok: false, code: 'BEACON_ERR_CHANNEL_ARCHIVED' };
    return { ok: true, message };
  }

  #refuse(connection: Connection, code: ErrorCode, ref: string): void {
    this.#replies.error(connection, code, { ref });
  }
}
