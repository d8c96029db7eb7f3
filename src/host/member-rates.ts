import { TokenBucket } from '../shared/token-bucket.ts';
import type { RoomLimits } from './options.ts';

/** A member's own pings: a client pings every few seconds, never more. */
const PINGS_PER_SECOND = 2;
const PING_BURST = 5;

/**
 * A member's rate limits. They belong to the member, not to a connection:
 * rejoining or resuming must not refill them (a flooder once came back with a
 * full bucket after every 1008 and stored ~1,270 messages a second).
 */
export interface MemberRates {
  messages: TokenBucket;
  pings: TokenBucket;
  history: TokenBucket;
  /** v1.5: searches, apart from messages (each reads the index, and a search box types fast). */
  searches: TokenBucket;
  /** v1.6: `members` and `watch` requests (a list of 10,000 scrolls and filters fast). */
  memberRequests: TokenBucket;
  floodStrikes: number;
  floodWindowStart: number;
}

export function freshRates(limits: RoomLimits, now: number): MemberRates {
  return {
    messages: new TokenBucket(limits.messagesPerSecond, limits.messageBurst, now),
    pings: new TokenBucket(PINGS_PER_SECOND, PING_BURST, now),
    history: new TokenBucket(limits.historyPerSecond, limits.historyBurst, now),
    searches: new TokenBucket(limits.searchesPerSecond, limits.searchBurst, now),
    memberRequests: new TokenBucket(limits.memberRequestsPerSecond, limits.memberRequestBurst, now),
    floodStrikes: 0,
    floodWindowStart: now,
  };
}

/** Counts one refusal for rate; true when it is one too many within the flood window (the member is flooding). */
export function floodStrike(rates: MemberRates, limits: RoomLimits, now: number): boolean {
  if (now - rates.floodWindowStart > limits.floodWindowMs) {
    rates.floodWindowStart = now;
    rates.floodStrikes = 0;
  }
  if (++rates.floodStrikes < limits.floodCloseAfter) return false;
  rates.floodStrikes = 0;
  return true;
}
