import { TokenBucket } from '../shared/token-bucket.ts';
import { isHostsOwnAddress } from './connection-gate.ts';
import { guardKey } from './join-guard.ts';

export interface RejoinThrottleOptions {
  /** Hellos per second from one address, sustained, and at once (an app reconnecting, a page with a few tabs). */
  hellosPerSecond: number;
  helloBurst: number;
  /** After a disconnection for flooding or abuse, the address may not join for this long; doubled each time. */
  penaltyMs: number;
  maxPenaltyMs: number;
  /** Addresses remembered at most; past this, addresses with nothing against them are forgotten first. */
  maxAddresses: number;
}

interface AddressRecord {
  hellos: TokenBucket;
  penalizedUntil: number;
  penalties: number;
  lastPenaltyAt: number;
}

export type RejoinCheck = { ok: true } | { ok: false; reason: 'too-fast' | 'penalized'; retryAfterMs: number };

/** When the table of addresses is full, a newcomer is asked to come back after this. */
const TABLE_FULL_RETRY_MS = 1_000;

/**
 * Slows an address down as a whole: a member disconnected for flooding cannot
 * come straight back with a fresh connection (or a fresh identity), and an
 * address cannot open joins faster than a person would. Rate limits of
 * messages follow the member identity (RoomServer); this follows the machine.
 * The host's own loopback address is not throttled (local tools, benchmarks).
 */
export class RejoinThrottle {
  readonly #options: RejoinThrottleOptions;
  readonly #records = new Map<string, AddressRecord>();

  constructor(options: RejoinThrottleOptions) {
    this.#options = options;
  }

  /** Takes one hello from `address`, or says how long it must wait. */
  hello(address: string, now = Date.now()): RejoinCheck {
    if (isHostsOwnAddress(address)) return { ok: true };
    const record = this.#record(guardKey(address), now);
    if (record === null) return { ok: false, reason: 'too-fast', retryAfterMs: TABLE_FULL_RETRY_MS };
    if (record.penalizedUntil > now) {
      return { ok: false, reason: 'penalized', retryAfterMs: record.penalizedUntil - now };
    }
    const taken = record.hellos.take(now);
    return taken.ok ? taken : { ok: false, reason: 'too-fast', retryAfterMs: taken.retryAfterMs };
  }

  /** The address was disconnected for abuse: it may not join again for a while, longer each time. */
  penalize(address: string, now = Date.now()): number {
    if (isHostsOwnAddress(address)) return 0;
    const record = this.#record(guardKey(address), now, true)!;
    // A penalty long forgotten (ten times its length ago) does not make the next one longer.
    if (now - record.lastPenaltyAt > 10 * this.#length(record.penalties)) record.penalties = 0;
    const length = this.#length(record.penalties);
    record.penalties += 1;
    record.lastPenaltyAt = now;
    record.penalizedUntil = now + length;
    return length;
  }

  /** Forgets addresses with nothing against them; the host calls this on its heartbeat. */
  prune(now = Date.now()): void {
    for (const [key, record] of this.#records) if (this.#forgettable(record, now)) this.#records.delete(key);
  }

  get size(): number {
    return this.#records.size;
  }

  #length(penalties: number): number {
    return Math.min(this.#options.penaltyMs * 2 ** penalties, this.#options.maxPenaltyMs);
  }

  #forgettable(record: AddressRecord, now: number): boolean {
    return record.penalizedUntil <= now - 10 * this.#length(record.penalties) && record.hellos.isFull(now);
  }

  /** The record of an address; null when the table is full of addresses that must not be forgotten. */
  #record(key: string, now: number, force = false): AddressRecord | null {
    const found = this.#records.get(key);
    if (found) return found;
    if (this.#records.size >= this.#options.maxAddresses) {
      this.prune(now);
      if (this.#records.size >= this.#options.maxAddresses && !force) return null;
    }
    const record: AddressRecord = {
      hellos: new TokenBucket(this.#options.hellosPerSecond, this.#options.helloBurst, now),
      penalizedUntil: 0,
      penalties: 0,
      lastPenaltyAt: 0,
    };
    this.#records.set(key, record);
    return record;
  }
}
