/** A token bucket: `ratePerSecond` sustained, `burst` at once. */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;
  readonly #rate: number;
  readonly #burst: number;

  constructor(ratePerSecond: number, burst: number, now = Date.now()) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one; otherwise returns the wait in ms until there will be. */
  take(now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.#tokens) / this.#rate) * 1000) };
  }

  /** The wait in ms until a token is available (0: one is available now), without taking it. */
  peek(now = Date.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  /** True when the bucket is full: a record of it carries no information and may be forgotten. */
  isFull(now = Date.now()): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + (Math.max(0, now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }
}
