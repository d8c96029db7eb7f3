/**
 * Every frame a connection sends, after decoding: the hello goes to
 * admission; a joined member's messages, typing, status, pings and history
 * requests are rate-limited per member, stored and fanned out here. Malformed
 * frames and flooding cost the connection, and its address a penalty. The
 * v1.5 requests about messages, channels and search are rate-limited here
 * and handled in conversations/.
 */
import {
  type ChannelRequestFrame,
  decodeClientFrame,
  DEFAULT_CHANNEL,
  encode,
  type HistoryRequestFrame,
  type HostFrame,
  type ChatMessage,
  type FileRef,
  isChannelId,
  type SendFrame,
} from '../shared/protocol.ts';
import { CLOSE } from '../shared/protocol.ts';
import type { Admission } from './admission.ts';
import type { Connection, Replies } from './connection.ts';
import { type Audience, isOtherChannel } from './conversations/audience.ts';
import type { ChannelDirectory } from './conversations/channel-directory.ts';
import type { MessageChanges } from './conversations/message-changes.ts';
import { withinPageBudget } from './conversations/page-budget.ts';
import type { SearchRequests } from './conversations/search-requests.ts';
import { sendContext } from './conversations/send-context.ts';
import type { FileService } from './files/file-service.ts';
import { floodStrike } from './member-rates.ts';
import type { MemberRequests } from './member-requests.ts';
import type { Members, MemberState } from './members.ts';
import type { RoomLimits } from './options.ts';
import type { RejoinThrottle } from './rejoin-throttle.ts';
import type { Conversation, HistoryStore } from './store/history-store.ts';
import type { TickWriter } from './tick-writer.ts';

export class RoomTraffic {
  readonly #limits: RoomLimits;
  readonly #store: HistoryStore;
  readonly #members: Members;
  readonly #admission: Admission;
  readonly #writer: TickWriter;
  readonly #replies: Replies;
  readonly #rejoins: RejoinThrottle;
  readonly #files: FileService | null;
  readonly #warn: (message: string) => void;
  readonly #audience: Audience;
  readonly #channels: ChannelDirectory;
  readonly #changes: MessageChanges;
  readonly #searches: SearchRequests;
  readonly #memberRequests: MemberRequests;

  constructor(options: {
    limits: RoomLimits;
    store: HistoryStore;
    members: Members;
    admission: Admission;
    writer: TickWriter;
    replies: Replies;
    rejoins: RejoinThrottle;
    /** The room's files, to turn a send's file ids into the host's records; null when it takes none. */
    files: FileService | null;
    warn: (message: string) => void;
    /** Who is sent a message, a typing notice or an update (v1.5: channels and direct conversations). */
    audience: Audience;
    channels: ChannelDirectory;
    /** Edits, deletions and reactions. */
    changes: MessageChanges;
    searches: SearchRequests;
    /** v1.6: pages of the member list and watched presence. */
    memberRequests: MemberRequests;
  }) {
    this.#limits = options.limits;
    this.#store = options.store;
    this.#members = options.members;
    this.#admission = options.admission;
    this.#writer = options.writer;
    this.#replies = options.replies;
    this.#rejoins = options.rejoins;
    this.#files = options.files;
    this.#warn = options.warn;
    this.#audience = options.audience;
    this.#channels = options.channels;
    this.#changes = options.changes;
    this.#searches = options.searches;
    this.#memberRequests = options.memberRequests;
  }

  /** One frame from `connection`: `null` for a binary frame, which Beacon never sends. */
  receive(connection: Connection, raw: string | null): void {
    const decoded =
      raw === null ? ({ ok: false, reason: 'malformed', detail: 'binary frame' } as const) : decodeClientFrame(raw);
    if (!decoded.ok && decoded.reason === 'version') {
      this.#replies.refuse(connection, 'BEACON_ERR_VERSION', { detail: decoded.detail });
      return;
    }
    if (!decoded.ok) {
      const code = decoded.reason === 'unknown-type' ? 'BEACON_ERR_UNKNOWN_TYPE' : 'BEACON_ERR_MALFORMED';
      this.#replies.error(connection, code, {
        detail: decoded.detail,
        ref: 'ref' in decoded ? decoded.ref : undefined,
      });
      this.#strike(connection);
      return;
    }
    const frame = decoded.frame;
    const member = connection.member;
    if (!member) {
      if (frame.type !== 'hello') this.#replies.refuse(connection, 'BEACON_ERR_NOT_JOINED');
      else if (connection.helloInProgress) this.#strike(connection);
      else this.#admission.hello(connection, frame);
      return;
    }
    switch (frame.type) {
      case 'ping':
        if (member.rates.pings.take().ok)
          this.#writer.queue(connection, encode({ type: 'pong', id: frame.id, t: frame.t }));
        else this.#floodStrike(connection, member);
        return;
      case 'hello':
        this.#replies.error(connection, 'BEACON_ERR_MALFORMED', { detail: 'already joined' });
        this.#strike(connection);
        return;
      case 'leave':
        connection.leaving = true;
        connection.ws.close(CLOSE.NORMAL, 'leave');
        return;
      case 'history': {
        const allowed = member.rates.history.take();
        if (allowed.ok) this.#history(connection, member, frame);
        else this.#throttled(connection, member, undefined, allowed.retryAfterMs);
        return;
      }
      case 'search': {
        const allowed = member.rates.searches.take();
        if (allowed.ok) this.#searches.search(connection, member, frame);
        else this.#throttled(connection, member, frame.ref, allowed.retryAfterMs);
        return;
      }
      case 'members':
      case 'watch': {
        const allowed = member.rates.memberRequests.take();
        if (!allowed.ok) this.#throttled(connection, member, frame.ref, allowed.retryAfterMs);
        else if (frame.type === 'members') this.#memberRequests.members(connection, frame);
        else this.#memberRequests.watch(connection, frame);
        return;
      }
    }
    // Edits, deletions, reactions and channel changes cost what a message costs: each is stored and sent to the room.
    const allowed = member.rates.messages.take();
    if (!allowed.ok) {
      const ref = frame.type === 'send' ? frame.clientId : 'ref' in frame ? frame.ref : undefined;
      this.#throttled(connection, member, ref, allowed.retryAfterMs);
      return;
    }
    switch (frame.type) {
      case 'send':
        this.#message(connection, member, frame);
        return;
      case 'typing':
        this.#typing(connection, member, frame.to ?? null, frame.channel);
        return;
      case 'status':
        this.#members.setStatus(member, frame.status);
        return;
      case 'edit':
        this.#changes.edit(connection, member, frame);
        return;
      case 'delete':
        this.#changes.delete(connection, member, frame);
        return;
      case 'react':
        this.#changes.react(connection, member, frame);
        return;
      case 'channel':
        this.#channelRequest(connection, member, frame);
        return;
    }
  }

  #typing(connection: Connection, member: MemberState, to: string | null, channel: string | undefined): void {
    if (to !== null) {
      this.#audience.send(encode({ type: 'typing', from: member.id, to }), { from: member.id, to }, connection);
      return;
    }
    const inChannel = isOtherChannel(channel) ? this.#channels.get(channel!) : undefined;
    // Typing is a hint: one for a channel that is not there (or archived) is dropped without a word.
    if (isOtherChannel(channel) && (!inChannel || inChannel.archived)) return;
    const where = inChannel ? { channel: inChannel.id } : {};
    this.#audience.send(
      encode({ type: 'typing', from: member.id, to: null, ...where }),
      { from: member.id, to: null, ...where },
      connection,
    );
  }

  #channelRequest(connection: Connection, member: MemberState, frame: ChannelRequestFrame): void {
    const outcome = this.#channels.request(
      { id: member.id, fromHostMachine: connection.fromHostMachine },
      frame,
      Date.now(),
    );
    if (!outcome.ok) {
      this.#replies.error(connection, outcome.code, { ref: frame.ref, detail: outcome.detail });
      return;
    }
    const { update } = outcome;
    const place = { from: member.id, to: null, channel: update.channel.id };
    this.#audience.send(encode({ type: 'update', update }), place, null);
    this.#writer.queue(connection, encode({ type: 'done', ref: frame.ref, seq: update.seq, channel: update.channel }));
  }

  #message(connection: Connection, member: MemberState, frame: SendFrame): void {
    const to = frame.to ?? null;
    // A caption is optional when the message carries files.
    if (frame.text.trim().length === 0 && frame.files === undefined) {
      this.#replies.error(connection, 'BEACON_ERR_EMPTY', { ref: frame.clientId });
      return;
    }
    const context = sendContext(frame, { id: member.id, channels: connection.channels }, this.#channels, this.#store);
    if (!context.ok) {
      // A resend after a lost ack is acknowledged again, even if its channel was archived since.
      const stored = this.#store.findSent(member.id, frame.clientId);
      if (stored) this.#ack(connection, stored);
      else this.#replies.error(connection, context.code, { ref: frame.clientId, detail: context.detail });
      return;
    }
    if (to !== null && (to === member.id || !this.#members.get(to))) {
      // A resend after a lost ack is acknowledged again, even if its recipient has left since.
      const stored = this.#store.findSent(member.id, frame.clientId);
      if (stored) {
        this.#ack(connection, stored);
      } else {
        this.#replies.error(connection, 'BEACON_ERR_NO_SUCH_MEMBER', { ref: frame.clientId });
      }
      return;
    }
    // The FileRefs come from the host's records, never from the sender.
    let files: FileRef[] | undefined;
    if (frame.files !== undefined) {
      const found = this.#files
        ? this.#files.filesForMessage(member.id, to, frame.files)
        : ({ ok: false, code: 'BEACON_ERR_NO_FILES' } as const);
      if (!found.ok) {
        const stored = this.#store.findSent(member.id, frame.clientId);
        if (stored) this.#ack(connection, stored);
        else this.#replies.error(connection, found.code, { ref: frame.clientId });
        return;
      }
      files = found.files;
    }
    const { message, duplicate } = this.#store.append({
      sender: member.id,
      recipient: to,
      text: frame.text,
      ts: Date.now(),
      clientId: frame.clientId,
      ...(files ? { files } : {}),
      ...(context.channel === undefined ? {} : { channel: context.channel }),
      ...(context.replyTo === undefined ? {} : { replyTo: context.replyTo }),
      ...(context.mentions.length === 0 ? {} : { mentions: context.mentions }),
    });
    this.#ack(connection, message);
    if (duplicate) return;
    // v1.6: partners hear each other's presence in a large room from the first direct message on.
    if (to !== null) this.#members.directMessage(member.id, to);
    this.#audience.send(encode({ type: 'message', message }), message, connection);
  }

  #ack(connection: Connection, message: ChatMessage): void {
    this.#writer.queue(
      connection,
      encode({
        type: 'ack',
        clientId: message.clientId,
        seq: message.seq,
        ts: message.ts,
        // The sender's own copy then shows the files as the host keeps them (the cleaned name, the real hash).
        ...(message.files?.length ? { files: message.files } : {}),
      }),
    );
  }

  #history(connection: Connection, member: MemberState, request: HistoryRequestFrame): void {
    const requested = request.conversation;
    const conversation: Conversation | null =
      requested === undefined
        ? 'all'
        : requested === DEFAULT_CHANNEL
          ? 'room'
          : isChannelId(requested)
            ? // A channel is nothing to a connection that does not understand channels: an empty page.
              connection.channels
              ? { channel: requested }
              : null
            : { with: requested };
    const forward = request.after !== undefined;
    const range = forward ? { after: request.after } : { before: request.before };
    const read = conversation
      ? this.#store.page(
          member.id,
          conversation,
          range,
          request.limit ?? this.#limits.historyPageSize,
          this.#limits.maxPageBytes,
          { channels: connection.channels },
        )
      : { messages: [], updates: [], hasMore: false };
    // Measured as sent once read: the store's estimate cannot see reactions.
    const page = withinPageBudget(read, forward, this.#limits.maxPageBytes);
    const reply: HostFrame = {
      type: 'history',
      messages: page.messages,
      hasMore: page.hasMore,
      direction: forward ? 'after' : 'before',
      names: this.#store.namesFor(page.messages, page.updates),
      ...(requested === undefined ? {} : { conversation: requested }),
      ...(forward ? { updates: page.updates } : {}),
    };
    this.#writer.queue(connection, encode(reply));
  }

  /** A malformed, unknown or repeated frame: tolerated a few times, then the connection is closed and its address penalised. */
  #strike(connection: Connection): void {
    if (++connection.malformed < this.#limits.malformedCloseAfter) return;
    this.#rejoins.penalize(connection.address);
    this.#replies.refuse(connection, 'BEACON_ERR_ABUSE');
  }

  #throttled(connection: Connection, member: MemberState, ref: string | undefined, retryAfterMs: number): void {
    if (this.#floodStrike(connection, member))
      this.#replies.error(connection, 'BEACON_ERR_RATE_LIMITED', { ref, retryAfterMs });
  }

  /** Counts a refusal for rate; returns false when that closed the connection for flooding. */
  #floodStrike(connection: Connection, member: MemberState): boolean {
    const now = Date.now();
    if (!floodStrike(member.rates, this.#limits, now)) return true;
    const penaltyMs = this.#rejoins.penalize(connection.address, now);
    this.#warn(`${member.name} (${connection.address}) was disconnected for flooding; penalty ${penaltyMs} ms`);
    this.#replies.refuse(connection, 'BEACON_ERR_FLOODING');
    return false;
  }
}
