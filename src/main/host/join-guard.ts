/**
 * Slows down and then locks out an address that keeps guessing the join code,
 * so a six-digit code cannot be brute-forced from the LAN. IPv6 addresses are
 * counted per /64, since one machine can use any address in its /64.
 */
export class JoinGuard {
  readonly #failures = new Map<string, { count: number; lockedUntil: number; lastAt: number }>();
  readonly #delayStepMs: number;
  readonly #lockoutAfter: number;
  readonly #lockoutMs: number;
  /** Entries kept at most: a flood of distinct addresses cannot grow the host's memory without bound. */
  static readonly MAX_ENTRIES = 10_000;

  constructor(options: { delayStepMs: number; lockoutAfter: number; lockoutMs: number }) {
    this.#delayStepMs = options.delayStepMs;
    this.#lockoutAfter = options.lockoutAfter;
    this.#lockoutMs = options.lockoutMs;
  }

  isLockedOut(address: string, now = Date.now()): boolean {
    const entry = this.#failures.get(guardKey(address));
    return entry !== undefined && entry.lockedUntil > now;
  }

  /** Records a wrong code; returns how long to wait before answering. */
  recordFailure(address: string, now = Date.now()): number {
    const key = guardKey(address);
    let entry = this.#failures.get(key);
    // Old mistakes are forgiven after a lockout period without new ones.
    if (!entry || (entry.lockedUntil <= now && now - entry.lastAt > this.#lockoutMs)) {
      entry = { count: 0, lockedUntil: 0, lastAt: now };
    }
    entry.count += 1;
    entry.lastAt = now;
    if (entry.count >= this.#lockoutAfter) entry.lockedUntil = now + this.#lockoutMs;
    this.#failures.delete(key);
    this.#failures.set(key, entry);
    if (this.#failures.size > JoinGuard.MAX_ENTRIES) this.#failures.delete(this.#failures.keys().next().value!);
    return Math.min(entry.count * this.#delayStepMs, 5_000);
  }

  recordSuccess(address: string): void {
    const key = guardKey(address);
    // A success clears an address's count, but never an active lockout (others may share the address).
    const entry = this.#failures.get(key);
    if (entry && entry.lockedUntil === 0) this.#failures.delete(key);
  }

  /** Forgets entries that no longer matter; the host calls this on its heartbeat. */
  prune(now = Date.now()): void {
    for (const [key, entry] of this.#failures) {
      if (entry.lockedUntil <= now && now - entry.lastAt > this.#lockoutMs) this.#failures.delete(key);
    }
  }
}

/** IPv4 (also IPv4-mapped IPv6) as it is; other IPv6 by its /64 prefix. */
export function guardKey(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
