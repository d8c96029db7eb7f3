/**
 * Where this member is in the room's history: the sequence number to resume
 * from after a drop, and the catch-up that follows a resume with more missed
 * than one page holds. No sockets, no timers: RoomClient tells it what
 * arrived and does what it answers (the way ws tests its Receiver alone).
 *
 * The one subtle rule: while catching up, live messages are past the gap
 * still being fetched. They are delivered at once, but resuming from them
 * after another drop would skip the gap, so they count only once the
 * catch-up is done, and pages skip the ones already delivered live.
 */
import type { ChatMessage, WelcomeFrame } from './protocol.ts';

export interface CatchUpStep {
  /** What to hand on: the page without messages already delivered live. */
  messages: ChatMessage[];
  /** Ask for the page after this sequence number next, or null when caught up. */
  fetchAfter: number | null;
}

export class ResumeCursor {
  #lastSeq: number;
  /** While catching up: live messages already delivered, to skip in the pages. */
  #deliveredLive: Set<number> | null = null;
  /** The highest sequence number that arrived live during a catch-up. */
  #liveMaxSeq = 0;
  /** The `after` of the catch-up page last asked for, while catching up. */
  #catchUpFrom: number | null = null;
  /** The position the current hello resumed from (0: it did not resume one). */
  #resumedFrom = 0;

  constructor(lastSeq = 0) {
    this.#lastSeq = lastSeq;
  }

  /** The sequence number to resume after. */
  get position(): number {
    return this.#lastSeq;
  }

  /** The catch-up page last asked for, or null when not catching up. */
  get catchingUpFrom(): number | null {
    return this.#catchUpFrom;
  }

  /** A hello goes out: resuming from the current position when there is an identity to resume. */
  hello(resuming: boolean): number {
    this.#resumedFrom = resuming ? this.#lastSeq : 0;
    return this.#resumedFrom;
  }

  /**
   * A welcome arrived. `identityChanged`: the host did not take our token (we
   * are someone new); `welcomedBefore`: this client had a welcome earlier.
   * Returns whether the welcome continues where this client left off, and the
   * first catch-up page to ask for if more was missed than it carried.
   */
  welcome(
    welcome: Pick<WelcomeFrame, 'resumed' | 'history' | 'hasMore' | 'lastSeq'>,
    identityChanged: boolean,
    welcomedBefore: boolean,
  ): { continues: boolean; fetchAfter: number | null } {
    // A host that lost its history (a new data folder) starts counting again.
    if (identityChanged || welcome.lastSeq < this.#lastSeq) {
      this.#lastSeq = 0;
      this.#liveMaxSeq = 0;
      this.#deliveredLive = null;
    }
    for (const message of welcome.history) this.#lastSeq = Math.max(this.#lastSeq, message.seq);
    if (!welcome.resumed || welcome.history.length === 0) this.#lastSeq = Math.max(this.#lastSeq, welcome.lastSeq);
    // It continues where this client left off when it resumed: from a position, or (in an empty room) after
    // an earlier welcome. Otherwise hasMore means "older messages exist", not "more missed".
    const continues = welcome.resumed && (this.#resumedFrom > 0 || welcomedBefore);
    const pageEnd = welcome.history.at(-1)?.seq;
    // A catch-up cut short by another drop keeps what it already delivered live, so pages skip it.
    const carried = this.#deliveredLive;
    this.#deliveredLive = null;
    this.#catchUpFrom = null;
    if (continues && this.#resumedFrom > 0 && welcome.hasMore && pageEnd !== undefined) {
      this.#deliveredLive = carried ?? new Set();
      this.#catchUpFrom = pageEnd;
      return { continues, fetchAfter: pageEnd };
    }
    this.#finishCatchUp();
    return { continues, fetchAfter: null };
  }

  /** A message arrived live. */
  live(seq: number): void {
    this.#deliveredLive?.add(seq);
    this.#advance(seq);
  }

  /** One of our own messages was stored at `seq`. */
  acknowledged(seq: number): void {
    this.#advance(seq);
  }

  /** A catch-up page (history after a position) arrived. */
  page(messages: readonly ChatMessage[], hasMore: boolean): CatchUpStep {
    const pageEnd = messages.at(-1)?.seq;
    for (const message of messages) this.#lastSeq = Math.max(this.#lastSeq, message.seq);
    const live = this.#deliveredLive;
    const fresh = live ? messages.filter((message) => !live.has(message.seq)) : [...messages];
    // Page on from this page's end, not from what arrived live meanwhile (that is past the gap).
    if (hasMore && pageEnd !== undefined) {
      this.#catchUpFrom = pageEnd;
      return { messages: fresh, fetchAfter: pageEnd };
    }
    this.#deliveredLive = null;
    this.#catchUpFrom = null;
    this.#finishCatchUp();
    return { messages: fresh, fetchAfter: null };
  }

  #advance(seq: number): void {
    if (this.#deliveredLive) this.#liveMaxSeq = Math.max(this.#liveMaxSeq, seq);
    else this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  #finishCatchUp(): void {
    this.#lastSeq = Math.max(this.#lastSeq, this.#liveMaxSeq);
    this.#liveMaxSeq = 0;
  }
}
