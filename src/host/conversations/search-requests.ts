/**
 * `search` (docs/PROTOCOL.md §19.8): a member's query over what it may see, answered to it alone
 * with `searchResults`. Which rows are searched (never another pair's direct messages, no other
 * channel for a client without channels, no deleted message) is the store's SQL; this module maps
 * the request's filters onto it and names the people on the answer.
 */
import { BeaconError } from '../../shared/errors.ts';
import {
  DEFAULT_CHANNEL,
  encode,
  isChannelId,
  type SearchHit,
  type SearchRequestFrame,
} from '../../shared/protocol.ts';
import type { Connection, Replies } from '../connection.ts';
import type { MemberState } from '../members.ts';
import type { Conversation, HistoryStore } from '../store/history-store.ts';
import type { TickWriter } from '../tick-writer.ts';

/** Hits in an answer unless the request asks for fewer or more (at most WIRE_LIMITS.searchPage). */
const DEFAULT_SEARCH_LIMIT = 20;

export class SearchRequests {
  readonly #store: HistoryStore;
  readonly #writer: TickWriter;
  readonly #replies: Replies;
  readonly #maxBytes: number;

  constructor(options: {
    store: HistoryStore;
    writer: TickWriter;
    replies: Replies;
    /** An answer's budget, as a page's (maxPageBytes): it ends before the hit that would pass it. */
    maxBytes: number;
  }) {
    this.#store = options.store;
    this.#writer = options.writer;
    this.#replies = options.replies;
    this.#maxBytes = options.maxBytes;
  }

  search(connection: Connection, member: MemberState, frame: SearchRequestFrame): void {
    const conversation = conversationOf(frame.conversation, connection.channels);
    let answer: ReturnType<HistoryStore['search']>;
    if (conversation === null) {
      // A channel this connection does not understand: nothing of it is visible here.
      answer = { hits: [], hasMore: false };
    } else {
      try {
        answer = this.#store.search({
          viewer: member.id,
          channels: connection.channels,
          query: frame.query,
          conversation,
          ...(frame.from === undefined ? {} : { from: frame.from }),
          ...(frame.since === undefined ? {} : { since: frame.since }),
          ...(frame.until === undefined ? {} : { until: frame.until }),
          ...(frame.before === undefined ? {} : { before: frame.before }),
          limit: frame.limit ?? DEFAULT_SEARCH_LIMIT,
        });
      } catch (error) {
        if (error instanceof BeaconError) return this.#replies.error(connection, error.code, { ref: frame.ref });
        throw error;
      }
    }
    const hits = withinBudget(answer.hits, this.#maxBytes);
    const shown = hits.flatMap((hit) => [...hit.before, hit.message, ...hit.after]);
    this.#writer.queue(
      connection,
      encode({
        type: 'searchResults',
        ref: frame.ref,
        hits,
        // The client pages on from the last hit it got, so the hits cut here come next time.
        hasMore: answer.hasMore || hits.length < answer.hits.length,
        names: this.#store.namesFor(shown),
      }),
    );
  }
}

/**
 * The first hits whose JSON fits in `maxBytes` (always one): fifty hits of 48 KB messages, each with
 * four such neighbours, made one answer of 12 MB, built and sent whole to whoever searched the words.
 */
function withinBudget(hits: readonly SearchHit[], maxBytes: number): SearchHit[] {
  let bytes = 0;
  let kept = 0;
  while (kept < hits.length) {
    bytes += Buffer.byteLength(JSON.stringify(hits[kept]));
    if (kept > 0 && bytes > maxBytes) break;
    kept++;
  }
  return hits.slice(0, kept);
}

/** The store's conversation for a request's `conversation`; null for a channel the connection does not understand. */
function conversationOf(requested: string | undefined, channels: boolean): Conversation | null {
  if (requested === undefined) return 'all';
  if (requested === DEFAULT_CHANNEL) return 'room';
  if (isChannelId(requested)) return channels ? { channel: requested } : null;
  return { with: requested };
}
