/**
 * Where this member is in the room's history: the sequence number to resume
 * from after a drop, and the catch-up that follows a resume with more missed
 * than one page holds. No sockets, no timers: RoomClient tells it what
 * arrived and does what it answers (the way ws tests its Receiver alone).
 *
 * Messages and updates (v1.5: edits, deletions, reactions, channel changes)
 * share one sequence, so the position is the highest seq seen of either.
 *
 * The one subtle rule: while catching up, live messages and updates are past
 * the gap still being fetched. They are delivered at once, but resuming from
 * them after another drop would skip the gap, so they count only once the
 * catch-up is done, and pages skip the ones already delivered live. A page
 * also skips an older update that a live one already overtook (an edit, a
 * reaction taken back, a channel renamed since), or it would undo it.
 */
import type { ChatMessage, Update, WelcomeFrame } from './protocol.ts';

export interface CatchUpStep {
  /** What to hand on: the page without messages already delivered live. */
  messages: ChatMessage[];
  /** The page's updates, oldest first, without those delivered live or overtaken by one delivered live. */
  updates: Update[];
  /** Ask for the page after this sequence number next, or null when caught up. */
  fetchAfter: number | null;
}

export class ResumeCursor {
  #lastSeq: number;
  /** While catching up: live messages and updates already delivered, to skip in the pages. */
  #deliveredLive: Set<number> | null = null;
  /** While catching up: the newest seq delivered live for each thing an update sets (see updateKey). */
  #liveUpdateKeys = new Map<string, number>();
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
    welcome: Pick<WelcomeFrame, 'resumed' | 'history' | 'hasMore' | 'lastSeq' | 'updates'>,
    identityChanged: boolean,
    welcomedBefore: boolean,
  ): { continues: boolean; fetchAfter: number | null; updates: Update[] } {
    // A host that lost its history (a new data folder) starts counting again.
    if (identityChanged || welcome.lastSeq < this.#lastSeq) {
      this.#lastSeq = 0;
      this.#liveMaxSeq = 0;
      this.#deliveredLive = null;
      this.#liveUpdateKeys.clear();
    }
    const updates = welcome.updates ?? [];
    const pageEnd = pageEndOf(welcome.history, updates);
    if (pageEnd !== undefined) this.#lastSeq = Math.max(this.#lastSeq, pageEnd);
    if (!welcome.resumed || pageEnd === undefined) this.#lastSeq = Math.max(this.#lastSeq, welcome.lastSeq);
    // It continues where this client left off when it resumed: from a position, or (in an empty room) after
    // an earlier welcome. Otherwise hasMore means "older messages exist", not "more missed".
    const continues = welcome.resumed && (this.#resumedFrom > 0 || welcomedBefore);
    // A catch-up cut short by another drop keeps what it already delivered live, so pages skip it.
    const carried = this.#deliveredLive;
    const fresh = carried ? this.#notOvertaken(updates, carried) : [...updates];
    this.#deliveredLive = null;
    this.#catchUpFrom = null;
    if (continues && this.#resumedFrom > 0 && welcome.hasMore && pageEnd !== undefined) {
      this.#deliveredLive = carried ?? new Set();
      this.#catchUpFrom = pageEnd;
      return { continues, fetchAfter: pageEnd, updates: fresh };
    }
    this.#finishCatchUp();
    return { continues, fetchAfter: null, updates: fresh };
  }

  /** A message arrived live. */
  live(seq: number): void {
    this.#deliveredLive?.add(seq);
    this.#advance(seq);
  }

  /** An update arrived live. */
  liveUpdate(update: Update): void {
    if (this.#deliveredLive) {
      const key = updateKey(update);
      this.#liveUpdateKeys.set(key, Math.max(this.#liveUpdateKeys.get(key) ?? 0, update.seq));
    }
    this.live(update.seq);
  }

  /** One of our own messages was stored at `seq`. */
  acknowledged(seq: number): void {
    this.#advance(seq);
  }

  /** A catch-up page (history after a position, with its updates) arrived. */
  page(messages: readonly ChatMessage[], hasMore: boolean, updates: readonly Update[] = []): CatchUpStep {
    const pageEnd = pageEndOf(messages, updates);
    if (pageEnd !== undefined) this.#lastSeq = Math.max(this.#lastSeq, pageEnd);
    const live = this.#deliveredLive;
    const fresh = live ? messages.filter((message) => !live.has(message.seq)) : [...messages];
    const freshUpdates = live ? this.#notOvertaken(updates, live) : [...updates];
    // Page on from this page's end, not from what arrived live meanwhile (that is past the gap).
    if (hasMore && pageEnd !== undefined) {
      this.#catchUpFrom = pageEnd;
      return { messages: fresh, updates: freshUpdates, fetchAfter: pageEnd };
    }
    this.#deliveredLive = null;
    this.#catchUpFrom = null;
    this.#finishCatchUp();
    return { messages: fresh, updates: freshUpdates, fetchAfter: null };
  }

  /** Updates neither delivered live nor overtaken by a newer one of the same thing delivered live. */
  #notOvertaken(updates: readonly Update[], live: ReadonlySet<number>): Update[] {
    return updates.filter(
      (update) => !live.has(update.seq) && (this.#liveUpdateKeys.get(updateKey(update)) ?? -1) < update.seq,
    );
  }

  #advance(seq: number): void {
    if (this.#deliveredLive) this.#liveMaxSeq = Math.max(this.#liveMaxSeq, seq);
    else this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  #finishCatchUp(): void {
    this.#lastSeq = Math.max(this.#lastSeq, this.#liveMaxSeq);
    this.#liveMaxSeq = 0;
    this.#liveUpdateKeys.clear();
  }
}

/** The highest seq on a page of messages and updates, or undefined when it is empty. */
function pageEndOf(messages: readonly ChatMessage[], updates: readonly Update[]): number | undefined {
  let end: number | undefined;
  for (const { seq } of [...messages, ...updates]) end = end === undefined ? seq : Math.max(end, seq);
  return end;
}

/** What an update sets: a newer update with the same key makes an older one stale. */
function updateKey(update: Update): string {
  switch (update.kind) {
    case 'edit':
    case 'delete':
      return `${update.kind}:${update.target}`;
    case 'react':
      return `react:${update.target}:${update.by}:${update.emoji}`;
    case 'channel':
      return `channel:${update.channel.id}`;
  }
}
