import { TokenBucket } from '../shared/token-bucket.ts';
import { isHostsOwnAddress } from './connection-gate.ts';
import { guardKey } from './join-guard.ts';

export interface NewcomerThrottleOptions {
  /** New identities one address may create per hour, sustained, and at once. */
  perHour: number;
  burst: number;
  /** Addresses remembered at most; past this, full buckets are forgotten, then the oldest. */
  maxAddresses: number;
}

export type NewcomerCheck = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * How many new identities each address (an IPv6 /64 counting as one) may create: every limit the
 * host keeps per member (uploads, the quota's share, the message rate) would otherwise multiply with
 * identities that cost nothing. A member resuming its own identity is never counted; nor is the
 * host's own machine (exactly 127.0.0.1 and ::1), as for every per-address limit.
 */
export class NewcomerThrottle {
  readonly #options: NewcomerThrottleOptions;
  /** In order of first use: when the table is full, the oldest is the one forgotten. */
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: NewcomerThrottleOptions) {
    this.#options = options;
  }

  /** Whether `address` may create one more identity now; takes its token if so. */
  take(address: string, now = Date.now()): NewcomerCheck {
    if (isHostsOwnAddress(address)) return { ok: true };
    const key = guardKey(address);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#options.maxAddresses) this.prune(now);
      // Forgetting an address gives it a full bucket again: only an attacker with this many
      // addresses can make that happen, and it already has that many buckets of its own.
      if (this.#buckets.size >= this.#options.maxAddresses) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = new TokenBucket(this.#options.perHour / 3600, this.#options.burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  /** Forgets addresses whose bucket is full again: their record says nothing. */
  prune(now = Date.now()): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
