import { TokenBucket } from '../shared/token-bucket.ts';

export interface JoinGuardOptions {
  /** Each wrong code from an address delays the answer by this much more (at most 5 s). */
  delayStepMs: number;
  /** Wrong codes from one address before it is locked out. */
  lockoutAfter: number;
  /** The first lockout of an address; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number;
  maxLockoutMs: number;
  /** Wrong codes the whole room accepts per minute, from every address together, and at once. */
  roomWrongPerMinute: number;
  roomWrongBurst: number;
}

interface AddressRecord {
  count: number;
  lockedUntil: number;
  lastAt: number;
  /** Lockouts so far: each one lasts twice as long as the one before. */
  lockouts: number;
}

export type CodeCheck =
  | { ok: true }
  | { ok: false; reason: 'locked-out'; retryAfterMs: number }
  /** Too many wrong codes in the whole room lately: no code is checked until the budget refills. */
  | { ok: false; reason: 'room-busy'; retryAfterMs: number };

/**
 * Makes guessing the join code hopeless from any number of addresses.
 *
 * Per address: each wrong code is answered more slowly, and after
 * `lockoutAfter` of them the address is locked out, for longer each time.
 * Per room: a budget of wrong codes shared by every address. While it is
 * spent, no code is checked at all (a check is a guess), so the guessing
 * rate of the whole LAN is the budget, whatever the number of addresses.
 * People who already joined come back with their resume token, which skips
 * the code, so an attack can delay newcomers but never shut members out.
 *
 * Records are never evicted to make room (evicting let 10,050 guesses from
 * other addresses erase a lockout): a record exists only for an address that
 * spent a token of the room budget, so their number is bounded by the budget.
 * IPv6 addresses are counted per /64, since one machine can use any address in its /64.
 */
export class JoinGuard {
  readonly #records = new Map<string, AddressRecord>();
  readonly #options: JoinGuardOptions;
  readonly #room: TokenBucket;

  constructor(options: JoinGuardOptions, now = Date.now()) {
    this.#options = options;
    this.#room = new TokenBucket(options.roomWrongPerMinute / 60, options.roomWrongBurst, now);
  }

  /** Whether a code from `address` may be checked now. */
  mayCheck(address: string, now = Date.now()): CodeCheck {
    const record = this.#records.get(guardKey(address));
    if (record && record.lockedUntil > now) {
      return { ok: false, reason: 'locked-out', retryAfterMs: record.lockedUntil - now };
    }
    const wait = this.#room.peek(now);
    return wait === 0 ? { ok: true } : { ok: false, reason: 'room-busy', retryAfterMs: wait };
  }

  /** Records a wrong code; returns how long to wait before answering, and whether the address is now locked out. */
  recordFailure(address: string, now = Date.now()): { delayMs: number; lockedOut: boolean; lockedForMs: number } {
    this.#room.take(now);
    const key = guardKey(address);
    let record = this.#records.get(key);
    // Old mistakes are forgiven after a quiet lockout period; the count of lockouts is kept while the record lives.
    if (!record) {
      record = { count: 0, lockedUntil: 0, lastAt: now, lockouts: 0 };
      this.#records.set(key, record);
    } else if (record.lockedUntil <= now && now - record.lastAt > this.#options.lockoutMs) {
      record.count = 0;
    }
    record.count += 1;
    record.lastAt = now;
    const lockedOut = record.count >= this.#options.lockoutAfter;
    if (lockedOut) {
      const length = Math.min(this.#options.lockoutMs * 2 ** record.lockouts, this.#options.maxLockoutMs);
      record.lockouts += 1;
      record.count = 0;
      record.lockedUntil = now + length;
    }
    return {
      delayMs: Math.min(record.count * this.#options.delayStepMs, 5_000),
      lockedOut,
      lockedForMs: lockedOut ? record.lockedUntil - now : 0,
    };
  }

  /** A right code clears an address's count of mistakes, never an active lockout (others may share the address). */
  recordSuccess(address: string, now = Date.now()): void {
    const record = this.#records.get(guardKey(address));
    if (record && record.lockedUntil <= now) record.count = 0;
  }

  /** Forgets addresses that have been quiet for longer than their last lockout; the host calls this on its heartbeat. */
  prune(now = Date.now()): void {
    for (const [key, record] of this.#records) {
      const memory = Math.min(this.#options.lockoutMs * 2 ** record.lockouts, this.#options.maxLockoutMs);
      if (record.lockedUntil <= now && now - record.lastAt > memory) this.#records.delete(key);
    }
  }

  get size(): number {
    return this.#records.size;
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
