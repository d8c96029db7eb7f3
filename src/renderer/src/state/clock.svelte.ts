import { dayKey } from '../lib/timeline.ts';

/**
 * A shared ticking clock for countdowns and typing expiry. `today` changes
 * only at midnight, so day labels can depend on it without re-running on
 * every tick.
 */
export class Clock {
  now = $state(Date.now());
  today = $state(dayKey(Date.now()));
  #timer: ReturnType<typeof setInterval> | null = null;

  start(intervalMs = 500): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  tick(now = Date.now()): void {
    this.now = now;
    const day = dayKey(now);
    if (day !== this.today) this.today = day;
  }
}
