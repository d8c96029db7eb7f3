import type { ChatApi, CommandInput, ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage, SearchHit } from '../../../shared/protocol.ts';
import { conversationOf } from '../lib/conversation.ts';
import type { ConversationsState } from './conversations.svelte.ts';
import type { RoomState } from './room.svelte.ts';

/** What narrows a search: a conversation, an author, and days (inclusive, as the date fields give them). */
export interface SearchFilters {
  conversation: ConversationId | null;
  from: string | null;
  /** 'YYYY-MM-DD' as an <input type="date"> gives it, or '' for no bound. */
  sinceDay: string;
  untilDay: string;
}

/** How long filter clicks pause before the search runs. */
const FILTER_PAUSE_MS = 250;
/** Searches the host refused as too fast are asked again after this long, this many times in all. */
const PACED_RETRY_MS = 600;
const PACED_ATTEMPTS = 5;
/** The rate-limit row speaks of messages; a search says its own. */
const SEARCH_TOO_FAST = 'Searching too often just now. Wait a moment and try again.';

export type SearchStatus = 'idle' | 'loading' | 'done' | 'error' | 'unavailable';

const NO_FILTERS: SearchFilters = { conversation: null, from: null, sinceDay: '', untilDay: '' };

/** Midnight at the start of a local 'YYYY-MM-DD' day, plus `days`; null for an empty or broken field. */
export function startOfDay(day: string, days = 0): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const at = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days).getTime();
  return Number.isFinite(at) ? at : null;
}

/** The request for a query and filters: `until` is the start of the day after the last day asked for. */
export function searchRequest(query: string, filters: SearchFilters, before?: number): CommandInput<'search'> {
  const input: CommandInput<'search'> = { query: query.trim() };
  if (filters.conversation !== null) input.conversation = filters.conversation;
  if (filters.from !== null) input.from = filters.from;
  const since = startOfDay(filters.sinceDay);
  const until = startOfDay(filters.untilDay, 1);
  if (since !== null) input.since = since;
  if (until !== null) input.until = until;
  if (before !== undefined) input.before = before;
  return input;
}

/**
 * Whether this member may see a message: one of the room's (any channel), or a direct one they
 * sent or received. The host already searches only those; a hit that is neither is dropped here too.
 */
export function visibleTo(message: Pick<ChatMessage, 'from' | 'to'>, me: string): boolean {
  return message.to === null || message.from === me || message.to === me;
}

/**
 * A search over what this member can see (v1.5): the query and filters, the hits the host answered
 * (newest first), and where the search stands. Each new search or filter starts over; an answer to
 * one that was replaced meanwhile is dropped, so hits never mix two queries.
 */
export class SearchState {
  query = $state('');
  filters = $state<SearchFilters>({ ...NO_FILTERS });
  /** The query the hits answer (the field may have changed since). */
  searched = $state('');
  hits = $state.raw<readonly SearchHit[]>([]);
  hasMore = $state(false);
  status = $state<SearchStatus>('idle');
  loadingMore = $state(false);
  error = $state<string | null>(null);
  /** Whether the results panel is showing. */
  showing = $state(false);

  readonly #api: ChatApi;
  readonly #room: RoomState;
  readonly #conversations: ConversationsState;
  /** Counts searches started: an answer belongs to the newest or is dropped. */
  #generation = 0;
  #filterTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(api: ChatApi, room: RoomState, conversations: ConversationsState) {
    this.#api = api;
    this.#room = room;
    this.#conversations = conversations;
  }

  /** Searches for the query with the filters, from the newest hit. */
  async run(): Promise<void> {
    const query = this.query.trim();
    if (query === '') return;
    const generation = ++this.#generation;
    this.showing = true;
    this.searched = query;
    this.hits = [];
    this.hasMore = false;
    this.loadingMore = false;
    this.error = null;
    if (!this.#room.channels.searchable) {
      this.status = 'unavailable';
      return;
    }
    this.status = 'loading';
    const result = await this.#searchPaced(() => searchRequest(query, this.filters), generation);
    if (generation !== this.#generation) return;
    if (!result.ok) {
      const unavailable =
        result.error.code === 'BEACON_ERR_SEARCH_UNAVAILABLE' || result.error.code === 'BEACON_ERR_OLD_HOST';
      this.status = unavailable ? 'unavailable' : 'error';
      this.error = result.error.code === 'BEACON_ERR_RATE_LIMITED' ? SEARCH_TOO_FAST : result.error.message;
      return;
    }
    this.#room.presence.learn(result.value.names);
    this.hits = this.#mine(result.value.hits);
    this.hasMore = result.value.hasMore;
    this.status = 'done';
  }

  /** The next older hits: the host's page after the last hit shown. */
  async more(): Promise<void> {
    const last = this.hits[this.hits.length - 1];
    if (!last || !this.hasMore || this.loadingMore || this.status !== 'done') return;
    const generation = this.#generation;
    this.loadingMore = true;
    const result = await this.#searchPaced(
      () => searchRequest(this.searched, this.filters, last.message.seq),
      generation,
    );
    if (generation !== this.#generation) return;
    this.loadingMore = false;
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    this.error = null;
    this.#room.presence.learn(result.value.names);
    const shown = new Set(this.hits.map((hit) => hit.message.seq));
    this.hits = [...this.hits, ...this.#mine(result.value.hits).filter((hit) => !shown.has(hit.message.seq))];
    this.hasMore = result.value.hasMore;
  }

  /**
   * A person clicking through filters starts a search per click: the newest one runs once the
   * clicking pauses, so the host's search budget (2 a second, burst 5) goes on what is looked at.
   */
  setFilters(change: Partial<SearchFilters>): void {
    this.filters = { ...this.filters, ...change };
    clearTimeout(this.#filterTimer);
    if (this.searched === '' || this.query.trim() === '') return;
    this.#generation++; // an answer to the filters before is stale from now on
    this.status = 'loading';
    this.#filterTimer = setTimeout(() => void this.run(), FILTER_PAUSE_MS);
  }

  /**
   * Asks the host, waiting and asking again while it says "too fast" (its search budget refills in
   * well under a second): being paced is not a failure to show. Gives up on a newer search.
   */
  async #searchPaced(request: () => CommandInput<'search'>, generation: number): ReturnType<ChatApi['search']> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.#api.search(request());
      if (result.ok || result.error.code !== 'BEACON_ERR_RATE_LIMITED' || attempt >= PACED_ATTEMPTS) return result;
      await new Promise((resume) => setTimeout(resume, result.error.retryAfterMs ?? PACED_RETRY_MS));
      if (generation !== this.#generation) return result;
    }
  }

  /** Opens the hit's conversation at its message, highlighted. */
  open(hit: SearchHit): void {
    const me = this.#room.youId;
    if (me === null) return;
    this.#conversations.reveal(conversationOf(hit.message, me), hit.message.seq);
  }

  close(): void {
    this.showing = false;
  }

  /** Leaving the room forgets the search: its hits belong to that room. */
  clear(): void {
    this.#generation++;
    clearTimeout(this.#filterTimer);
    this.query = '';
    this.filters = { ...NO_FILTERS };
    this.searched = '';
    this.hits = [];
    this.hasMore = false;
    this.status = 'idle';
    this.loadingMore = false;
    this.error = null;
    this.showing = false;
  }

  /** Hits this member may see (the host's job; checked again), each with only neighbours of its conversation. */
  #mine(hits: readonly SearchHit[]): SearchHit[] {
    const me = this.#room.youId;
    if (me === null) return [];
    return hits
      .filter((hit) => visibleTo(hit.message, me))
      .map((hit) => {
        const where = conversationOf(hit.message, me);
        const near = (m: ChatMessage): boolean => conversationOf(m, me) === where;
        return { ...hit, before: hit.before.filter(near), after: hit.after.filter(near) };
      });
  }
}
