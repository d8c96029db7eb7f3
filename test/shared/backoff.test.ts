import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/shared/backoff.ts';

describe('reconnect backoff', () => {
  it('grows exponentially to a cap of about 10 s, with jitter that never drops below half', () => {
    const low = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 0);
    const high = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 1);
    expect([1, 2, 3, 4, 5].map(high)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(high(10)).toBe(10_000);
    expect(low(10)).toBe(5_000);
    expect(low(1)).toBe(250);
  });

  it('a room full of clients spreads out: each waits between half and all of its ceiling', () => {
    let seed = 1;
    const random = (): number => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(10_000, 500 * 2 ** (attempt - 1));
      const delays = Array.from({ length: 200 }, () => backoffDelay(attempt, DEFAULT_BACKOFF, random));
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
      expect(new Set(delays).size).toBeGreaterThan(100);
    }
  });
});
