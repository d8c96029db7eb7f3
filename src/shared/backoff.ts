import type { ConnectionState } from './chat-api.ts';
import type { ErrorCode } from './errors.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, factor: 2 };
/**
 * After the host said goodbye (it was stopped on purpose), Beacon keeps trying
 * quietly in case it comes back: slower, and never counted out loud.
 */
export const HOST_STOPPED_BACKOFF: BackoffOptions = { initialMs: 2_000, maxMs: 30_000, factor: 2 };

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so a room full of clients does not
 * reconnect in lockstep when the host comes back, yet none waits near zero.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface ReconnectOptions {
  backoff: BackoffOptions;
  /** Attempts shown as "reconnecting" before the state says "offline" (retries go on in the background). */
  offlineAfterAttempts: number;
  random: () => number;
  now: () => number;
}

/**
 * When the next attempt after a lost connection happens, and what the person
 * is told until then: "reconnecting" with the attempt number for the first
 * few, then "offline" with the time of the next try in the background.
 */
export class ReconnectSchedule {
  readonly #options: ReconnectOptions;
  /** Failed attempts since the last welcome. */
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ReconnectOptions) {
    this.#options = options;
  }

  /** The number of the attempt that starts next. */
  get nextAttempt(): number {
    return this.#failures + 1;
  }

  /** A welcome: the count starts again. */
  welcomed(): void {
    this.#failures = 0;
  }

  /**
   * Schedules `retry` after the backoff, and returns the state to show until
   * then. `quiet`: the host stopped the room, so the slow backoff, and the
   * state says "offline" with that reason from the first attempt on.
   */
  afterLoss(address: string, reason: ErrorCode, reasonText: string, retry: () => void, quiet = false): ConnectionState {
    this.cancel();
    this.#failures += 1;
    const backoff = quiet ? HOST_STOPPED_BACKOFF : this.#options.backoff;
    const delay = backoffDelay(this.#failures, backoff, this.#options.random);
    const nextRetryAt = this.#options.now() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      retry();
    }, delay);
    // Quiet: the reason is known and final for now (the host stopped); no attempt count to watch.
    if (quiet || this.#failures > this.#options.offlineAfterAttempts) {
      return { kind: 'offline', address, reason, reasonText, nextRetryAt };
    }
    return { kind: 'reconnecting', address, attempt: this.#failures, nextRetryAt, reason, reasonText };
  }

  /** No attempt is waiting any more (the person left, or tries now). */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
