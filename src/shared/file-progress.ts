/**
 * What a progress bar shows besides the bytes: the speed over the last few seconds (not since the
 * start, which a pause or a reconnect would drag down for minutes) and the time left at that speed;
 * and a pace for progress events, so a fast local transfer does not flood the interface.
 */
import type { Transfer, TransferState } from './chat-api.ts';

/** Speed is measured over this much recent time. */
export const SPEED_WINDOW_MS = 3_000;
/** At most this many progress events a second per transfer (the first and the last always go). */
export const PROGRESS_EVENTS_PER_SECOND = 4;

/** Bytes done over time, for the speed over the last SPEED_WINDOW_MS and the seconds left at it. */
export class TransferMeter {
  readonly #size: number;
  readonly #windowMs: number;
  /** [time, bytes done] samples within the window, oldest first. */
  #samples: [number, number][] = [];

  constructor(size: number, windowMs = SPEED_WINDOW_MS) {
    this.#size = size;
    this.#windowMs = windowMs;
  }

  /** Bytes done so far at `now` (epoch ms). A count that went back (a resume re-reading its offset) starts a new window. */
  sample(now: number, doneBytes: number): void {
    const last = this.#samples.at(-1);
    if (last && doneBytes < last[1]) this.#samples = [];
    this.#samples.push([now, doneBytes]);
    // Keep one sample at or before the window's start, so the window is measured across its full width.
    while (this.#samples.length > 2 && this.#samples[1]![0] <= now - this.#windowMs) this.#samples.shift();
  }

  /** A pause (waiting for the host): the next bytes are measured from when they move again. */
  reset(): void {
    this.#samples = [];
  }

  /** Bytes a second over the window; null until there are two samples at least 100 ms apart. */
  get bytesPerSecond(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last[0] - first[0] < 100) return null;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }

  /** Whole seconds left at the current speed; null while unknown (no speed yet, or stalled). */
  get secondsLeft(): number | null {
    const speed = this.bytesPerSecond;
    const last = this.#samples.at(-1);
    if (speed === null || !last) return null;
    const left = this.#size - last[1];
    if (left <= 0) return 0;
    return speed > 0 ? Math.ceil(left / speed) : null;
  }
}

/**
 * Lets a call through at most `perSecond` times a second; the last call held back is made when its
 * turn comes (so the final figure is never lost), unless `flush` or `cancel` comes first.
 */
export class Pace {
  readonly #intervalMs: number;
  readonly #now: () => number;
  #last = -Infinity;
  #held: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(perSecond: number = PROGRESS_EVENTS_PER_SECOND, now: () => number = Date.now) {
    this.#intervalMs = 1000 / perSecond;
    this.#now = now;
  }

  call(fn: () => void): void {
    const wait = this.#last + this.#intervalMs - this.#now();
    if (wait <= 0 && !this.#timer) {
      this.#last = this.#now();
      fn();
      return;
    }
    this.#held = fn;
    this.#timer ??= setTimeout(() => this.flush(), Math.max(0, wait));
  }

  /** Drops any held call and makes this one now, counting it against the pace (a change of state). */
  callNow(fn: () => void): void {
    this.cancel();
    this.#last = this.#now();
    fn();
  }

  /** Makes the held call now (a state change must not wait behind a progress figure). */
  flush(): void {
    this.#stopTimer();
    const held = this.#held;
    this.#held = null;
    if (held) {
      this.#last = this.#now();
      held();
    }
  }

  /** Drops the held call (the transfer ended and says so itself). */
  cancel(): void {
    this.#stopTimer();
    this.#held = null;
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * One transfer's public state, told to the interface: progress paced (PROGRESS_EVENTS_PER_SECOND)
 * with the speed and time left; every change of state at once.
 */
export class TransferReport {
  readonly #transfer: Transfer;
  readonly #emit: (transfer: Transfer) => void;
  readonly #now: () => number;
  readonly #meter: TransferMeter;
  readonly #pace: Pace;

  constructor(transfer: Transfer, emit: (transfer: Transfer) => void, now: () => number = Date.now) {
    this.#transfer = { ...transfer };
    this.#emit = emit;
    this.#now = now;
    this.#meter = new TransferMeter(transfer.size);
    this.#pace = new Pace(PROGRESS_EVENTS_PER_SECOND, now);
  }

  /** A copy of where it stands. */
  get transfer(): Transfer {
    return { ...this.#transfer };
  }

  get state(): TransferState {
    return this.#transfer.state;
  }

  /** Bytes moved so far; told at the pace, 'active' from here on. */
  progress(doneBytes: number): void {
    if (this.#transfer.state === 'done' || this.#transfer.state === 'cancelled') return;
    const wasActive = this.#transfer.state === 'active';
    this.#meter.sample(this.#now(), doneBytes);
    Object.assign(this.#transfer, {
      doneBytes,
      state: 'active',
      bytesPerSecond: this.#meter.bytesPerSecond,
      secondsLeft: this.#meter.secondsLeft,
    });
    delete this.#transfer.error;
    if (wasActive) this.#pace.call(() => this.#emit(this.transfer));
    else this.#tell();
  }

  /** A new state (with what goes with it, such as an error or the file id), told at once. */
  set(state: TransferState, extra: Partial<Omit<Transfer, 'id' | 'state'>> = {}): void {
    if (state !== 'active') this.#meter.reset();
    Object.assign(this.#transfer, { bytesPerSecond: null, secondsLeft: null }, extra, { state });
    if (state === 'done') this.#transfer.doneBytes = this.#transfer.size;
    if (state !== 'failed' && state !== 'waiting' && extra.error === undefined) delete this.#transfer.error;
    this.#tell();
  }

  #tell(): void {
    this.#pace.callNow(() => this.#emit(this.transfer));
  }
}
