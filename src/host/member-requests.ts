/**
 * `members` and `watch` (protocol v1.6): a client showing a large room's member list asks for the
 * rows it shows, by name order and optionally filtered, and says whose presence it wants live.
 * Both are answered to it alone with `membersPage`; room-traffic rate-limits them per member.
 */
import { encode, type Member, type MembersRequestFrame, type WatchRequestFrame } from '../shared/protocol.ts';
import { DEFAULT_MEMBERS_PAGE } from '../shared/member-order.ts';
import type { Connection } from './connection.ts';
import type { Members } from './members.ts';
import type { TickWriter } from './tick-writer.ts';

export class MemberRequests {
  readonly #members: Members;
  readonly #writer: TickWriter;

  constructor(options: { members: Members; writer: TickWriter }) {
    this.#members = options.members;
    this.#writer = options.writer;
  }

  members(connection: Connection, frame: MembersRequestFrame): void {
    const offset = frame.offset ?? 0;
    const { members, total } = this.#members.page(frame.query ?? '', offset, frame.limit ?? DEFAULT_MEMBERS_PAGE);
    this.#answer(connection, frame.ref, members, offset, total);
  }

  /** Presence is public: anyone in the room may be watched, and ids of members not here are dropped. */
  watch(connection: Connection, frame: WatchRequestFrame): void {
    const watched = this.#members.watch(connection, frame.ids);
    this.#answer(connection, frame.ref, watched, 0, watched.length);
  }

  #answer(connection: Connection, ref: string, members: Member[], offset: number, total: number): void {
    this.#writer.queue(connection, encode({ type: 'membersPage', ref, members, offset, total }));
  }
}
