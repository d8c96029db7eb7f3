import type { ChatApi } from '../../../shared/chat-api.ts';
import type { Member } from '../../../shared/protocol.ts';

/** The @ picker lists this many, as it does from the local list (PICKER_SIZE). */
const ASKED = 8;
/** The host is asked once typing pauses this long, not at every key. */
export const MENTION_DEBOUNCE_MS = 120;

/**
 * The @ picker's candidates in a large room, where this window knows only part of the room: the
 * host is asked for names containing what is typed. Only the answer to the latest query is kept;
 * a refused or failed ask leaves the picker empty (typing on asks again).
 */
export class MentionSearch {
  /** Members whose names contain `query`, in the host's name order (you left out: one fewer then). */
  results = $state.raw<readonly Member[]>([]);
  /** The query `results` answer. */
  answered = $state<string | null>(null);

  readonly #api: Pick<ChatApi, 'members'>;
  readonly #youId: () => string | null;
  #wanted: string | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(api: Pick<ChatApi, 'members'>, youId: () => string | null) {
    this.#api = api;
    this.#youId = youId;
  }

  /** What follows the @ changed (null: no @ is being typed). */
  lookFor(query: string | null): void {
    if (query === this.#wanted) return;
    this.#wanted = query;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (query === null) {
      this.results = [];
      this.answered = null;
      return;
    }
    this.#timer = setTimeout(() => void this.#ask(query), MENTION_DEBOUNCE_MS);
  }

  async #ask(query: string): Promise<void> {
    this.#timer = null;
    const answer = await this.#api.members({ ...(query ? { query } : {}), limit: ASKED });
    if (query !== this.#wanted) return;
    const you = this.#youId();
    this.results = answer.ok ? answer.value.members.filter((m) => m.id !== you).slice(0, ASKED) : [];
    this.answered = query;
  }
}
