import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { ChatApi, Result } from '../../../shared/chat-api.ts';
import { WIRE_LIMITS, type Member, type PresenceEvent } from '../../../shared/protocol.ts';

/** Members fetched per request: a few screens of rows, so scrolling rarely waits. */
export const DIRECTORY_PAGE = 100;
/** Typing in the filter asks the host once it pauses, not at every key. */
export const QUERY_DEBOUNCE_MS = 150;
/** The rows on screen change with every scrolled pixel; the host hears the set at most this often. */
export const WATCH_DEBOUNCE_MS = 250;
/** The counts change with every join; pages on screen are asked again at most this often. */
export const REFRESH_INTERVAL_MS = 1000;
/** A refusal without a wait in it is tried again after this long. */
const RATE_LIMIT_FALLBACK_MS = 1000;

export interface DirectoryTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realTimers: DirectoryTimers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * The member list of a large room (RoomView.membersPartial), as the host pages it: sorted by name,
 * optionally filtered, fetched a page at a time as rows come into view. It also tells the host which
 * members are on screen (watchMembers), so their presence arrives live.
 *
 * Answers that arrive after the query changed, or after the room was left, are dropped by
 * generation. A rate-limited request waits the time the host said and goes again, quietly, while
 * it is still wanted: a refusal is the host pacing us, not news for the person.
 */
export class MemberDirectory {
  /** The filter as the host last applied it (the typed one waits for the debounce). */
  query = $state('');
  /** How many members match `query`, as the host last said; null until the first page arrives. */
  total = $state<number | null>(null);
  /** Something failed that is not rate: said once under the list until the next page arrives. */
  problem = $state<string | null>(null);

  /** Members on the pages who left since (their rows say so until the page is asked again). */
  readonly gone = new SvelteSet<string>();
  readonly #pages = new SvelteMap<number, readonly Member[]>();
  readonly #asking = new Set<number>();
  /** Pages whose members may have moved (the roster changed): asked again when next shown. */
  readonly #stale = new Set<number>();
  readonly #api: Pick<ChatApi, 'members' | 'watchMembers'>;
  readonly #timers: DirectoryTimers;
  #generation = 0;
  #typed = '';
  #queryTimer: unknown = null;
  #watchTimer: unknown = null;
  #refreshTimer: unknown = null;
  #lastRefresh = Number.NEGATIVE_INFINITY;
  /** The pages on screen [first, last], the rows on screen, and the ids last watched. */
  #visible: { first: number; last: number } = { first: 0, last: 0 };
  #rows: { first: number; last: number } = { first: 0, last: -1 };
  #watched = '';
  /** Members watched whatever is on screen: those this person opened a conversation with from the list. */
  readonly #alsoWatched = new Set<string>();
  #active = false;

  constructor(api: Pick<ChatApi, 'members' | 'watchMembers'>, timers: DirectoryTimers = realTimers) {
    this.#api = api;
    this.#timers = timers;
  }

  /** Begins paging (the room is large): the first page of the current filter. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    this.#restart();
  }

  /** Stops paging and forgets every page (the room became small again, or we left). */
  stop(): void {
    this.#active = false;
    this.#generation++;
    this.#pages.clear();
    this.#asking.clear();
    this.#stale.clear();
    this.total = null;
    this.problem = null;
    this.gone.clear();
    this.#alsoWatched.clear();
    this.#watched = '';
    for (const t of [this.#queryTimer, this.#watchTimer, this.#refreshTimer])
      if (t !== null) this.#timers.clearTimeout(t);
    this.#queryTimer = this.#watchTimer = this.#refreshTimer = null;
  }

  get active(): boolean {
    return this.#active;
  }

  /** The member at position `index` of the sorted, filtered list; undefined while its page loads. */
  at(index: number): Member | undefined {
    return this.#pages.get(Math.floor(index / DIRECTORY_PAGE))?.[index % DIRECTORY_PAGE];
  }

  /** Where member `id` is in the list, once a page holding them has arrived. */
  positionOf(id: string): number | undefined {
    for (const [page, members] of this.#pages) {
      const at = members.findIndex((m) => m.id === id);
      if (at >= 0) return page * DIRECTORY_PAGE + at;
    }
    return undefined;
  }

  /** The person typed in the filter: asked once they pause. */
  filter(text: string): void {
    this.#typed = text.trim();
    if (this.#queryTimer !== null) this.#timers.clearTimeout(this.#queryTimer);
    this.#queryTimer = this.#timers.setTimeout(() => {
      this.#queryTimer = null;
      if (this.#typed === this.query) return;
      this.query = this.#typed;
      if (this.#active) this.#restart();
    }, QUERY_DEBOUNCE_MS);
  }

  /**
   * Rows `first`..`last` (positions in the list) are on screen: fetch the pages they need (and
   * those stale), and watch their members once scrolling pauses.
   */
  showing(first: number, last: number): void {
    if (!this.#active) return;
    const from = Math.floor(Math.max(0, first) / DIRECTORY_PAGE);
    const to = Math.floor(Math.max(0, last) / DIRECTORY_PAGE);
    this.#visible = { first: from, last: to };
    this.#rows = { first, last };
    for (let page = from; page <= to; page++) {
      if (!this.#pages.has(page) || this.#stale.has(page)) void this.#fetch(page);
    }
    this.#watchSoon();
  }

  /**
   * The room's counts changed: the pages on screen may have moved. Asked again at most once a
   * second, however fast the roster changes; pages off screen are asked again when next shown.
   */
  rosterChanged(): void {
    if (!this.#active) return;
    for (const page of this.#pages.keys()) this.#stale.add(page);
    if (this.#refreshTimer !== null) return;
    const wait = Math.max(0, this.#lastRefresh + REFRESH_INTERVAL_MS - this.#timers.now());
    this.#refreshTimer = this.#timers.setTimeout(() => {
      this.#refreshTimer = null;
      this.#lastRefresh = this.#timers.now();
      const { first, last } = this.#visible;
      for (let page = first; page <= last; page++) if (this.#stale.has(page)) void this.#fetch(page);
    }, wait);
  }

  /**
   * Keeps `id`'s presence coming while they are off screen (a conversation opened with them from
   * the list: the host sends partners' presence only once they have exchanged messages).
   */
  alsoWatch(id: string): void {
    if (!this.#active || this.#alsoWatched.has(id)) return;
    this.#alsoWatched.add(id);
    this.#watchSoon();
  }

  /** Presence news about a watched member: a departure shows on its row at once. */
  memberChanged(event: PresenceEvent, member: Member): void {
    if (event === 'left') this.gone.add(member.id);
    else this.gone.delete(member.id);
  }

  #restart(): void {
    this.#generation++;
    this.#pages.clear();
    this.#asking.clear();
    this.#stale.clear();
    this.total = null;
    this.#visible = { first: 0, last: 0 };
    void this.#fetch(0);
  }

  async #fetch(page: number): Promise<void> {
    if (this.#asking.has(page)) return;
    this.#asking.add(page);
    const generation = this.#generation;
    const input = {
      offset: page * DIRECTORY_PAGE,
      limit: DIRECTORY_PAGE,
      ...(this.query ? { query: this.query } : {}),
    };
    const answer = await this.#askPatiently(() => this.#api.members(input), generation);
    if (generation !== this.#generation) return;
    this.#asking.delete(page);
    if (!answer) return;
    if (!answer.ok) {
      this.problem = answer.error.message;
      return;
    }
    this.problem = null;
    this.#stale.delete(page);
    // A page holds what was asked for, whatever a faulty host sends.
    this.#pages.set(page, answer.value.members.slice(0, DIRECTORY_PAGE));
    if (this.total !== answer.value.total) {
      this.total = answer.value.total;
      // Pages past the new end are no longer rows of the list.
      const pages = Math.ceil(answer.value.total / DIRECTORY_PAGE);
      for (const known of [...this.#pages.keys()]) if (known >= pages) this.#pages.delete(known);
    }
    // The rows on screen that were placeholders now have members to watch.
    if (page >= this.#visible.first && page <= this.#visible.last) this.#watchSoon();
  }

  #watchSoon(): void {
    // A timer already set will read the rows as they are when it fires. Not reset on each call: rows
    // measured frame after frame would put the watch off for as long as they move.
    if (this.#watchTimer !== null) return;
    this.#watchTimer = this.#timers.setTimeout(() => {
      this.#watchTimer = null;
      const { first, last } = this.#rows;
      const ids = [...this.#alsoWatched].slice(-WIRE_LIMITS.membersPage / 4);
      for (let i = Math.max(0, first); i <= last && ids.length < WIRE_LIMITS.membersPage; i++) {
        const member = this.at(i);
        if (member && !ids.includes(member.id)) ids.push(member.id);
      }
      const key = ids.join('\n');
      if (key === this.#watched) return;
      this.#watched = key;
      void this.#askPatiently(() => this.#api.watchMembers({ ids }), this.#generation);
    }, WATCH_DEBOUNCE_MS);
  }

  /**
   * Asks, and when the host says we are too fast, waits as long as it said and asks again (while
   * the answer is still wanted). Null: no longer wanted.
   */
  async #askPatiently<T>(ask: () => Promise<Result<T>>, generation: number): Promise<Result<T> | null> {
    for (;;) {
      const answer = await ask();
      if (generation !== this.#generation) return null;
      if (answer.ok || answer.error.code !== 'BEACON_ERR_RATE_LIMITED') return answer;
      const wait = answer.error.retryAfterMs ?? RATE_LIMIT_FALLBACK_MS;
      await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, wait));
      if (generation !== this.#generation) return null;
    }
  }
}
