/**
 * Slows down and then locks out an address that keeps guessing the join code,
 * so a six-digit code cannot be brute-forced from the LAN.
 */
export class JoinGuard {
  readonly #failures = new Map<string, { count: number; lockedUntil: number; lastAt: number }>();
  readonly #delayStepMs: number;
  readonly #lockoutAfter: number;
  readonly #lockoutMs: number;

  constructor(options: { delayStepMs: number; lockoutAfter: number; lockoutMs: number }) {
    this.#delayStepMs = options.delayStepMs;
    this.#lockoutAfter = options.lockoutAfter;
    this.#lockoutMs = options.lockoutMs;
  }

  isLockedOut(address: string, now = Date.now()): boolean {
    const entry = this.#failures.get(address);
    if (!entry || entry.lockedUntil === 0) return false;
    if (entry.lockedUntil > now) return true;
    this.#failures.delete(address);
    return false;
  }

  /** Records a wrong code; returns how long to wait before answering. */
  recordFailure(address: string, now = Date.now()): number {
    let entry = this.#failures.get(address);
    // Old mistakes are forgiven after a lockout period without new ones.
    if (!entry || (entry.lockedUntil === 0 && now - entry.lastAt > this.#lockoutMs))
      entry = { count: 0, lockedUntil: 0, lastAt: now };
    entry.count += 1;
    entry.lastAt = now;
    if (entry.count >= this.#lockoutAfter) entry.lockedUntil = now + this.#lockoutMs;
    this.#failures.set(address, entry);
    return Math.min(entry.count * this.#delayStepMs, 5_000);
  }

  recordSuccess(address: string): void {
    this.#failures.delete(address);
  }
}
