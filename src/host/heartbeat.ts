/**
 * Visits every member once per interval, each on its own fixed schedule.
 *
 * The interval is cut into `slices`; a member is placed in the emptiest slice
 * when it joins and stays there, so it is visited exactly every `intervalMs`
 * however many others come and go. (Taking a snapshot of everyone per round
 * and visiting it in equal parts let churn shift a member's turn: a silent
 * member was cut 14.6 s after it was last heard instead of 5-10 s.) Spreading
 * the visits keeps one tick from pinging 2,000 members at once, a stall every
 * message in flight would wait for.
 */
export class Heartbeat<T> {
  readonly #slices: Set<T>[];
  readonly #sliceOf = new Map<T, Set<T>>();
  readonly #visit: (item: T) => void;
  readonly #onRound: () => void;
  readonly #timer: ReturnType<typeof setInterval>;
  #next = 0;

  constructor(options: { intervalMs: number; slices: number; visit: (item: T) => void; onRound?: () => void }) {
    this.#slices = Array.from({ length: options.slices }, () => new Set<T>());
    this.#visit = options.visit;
    this.#onRound = options.onRound ?? (() => {});
    this.#timer = setInterval(() => this.#beat(), options.intervalMs / options.slices);
  }

  add(item: T): void {
    if (this.#sliceOf.has(item)) return;
    let emptiest = this.#slices[0]!;
    for (const slice of this.#slices) if (slice.size < emptiest.size) emptiest = slice;
    emptiest.add(item);
    this.#sliceOf.set(item, emptiest);
  }

  remove(item: T): void {
    this.#sliceOf.get(item)?.delete(item);
    this.#sliceOf.delete(item);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    if (this.#next === 0) this.#onRound();
    const slice = this.#slices[this.#next]!;
    this.#next = (this.#next + 1) % this.#slices.length;
    // A copy: a visit may remove its item (a terminated connection).
    for (const item of [...slice]) this.#visit(item);
  }
}
