import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../src/shared/token-bucket.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('rate limit', () => {
  it('a token bucket allows the burst, then the rate, and says how long to wait', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([0, 0, 0].map(() => bucket.take(0).ok)).toEqual([true, true, true]);
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(bucket.take(100).ok).toBe(true);
  });

  it('on the clock: waiting the time it names is enough, and a moment less is not', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    const bucket = new TokenBucket(4, 1);
    expect(bucket.take().ok).toBe(true);
    const refused = bucket.take();
    expect(refused).toEqual({ ok: false, retryAfterMs: 250 });
    vi.advanceTimersByTime(249);
    expect(bucket.peek()).toBeGreaterThan(0);
    expect(bucket.take().ok).toBe(false);
    vi.advanceTimersByTime(1);
    expect(bucket.peek()).toBe(0);
    expect(bucket.take().ok).toBe(true);
  });

  it('a long quiet refills only up to the burst', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect(bucket.isFull(0)).toBe(true);
    bucket.take(0);
    expect(bucket.isFull(0)).toBe(false);
    const later = 3_600_000;
    expect(bucket.isFull(later)).toBe(true);
    expect([0, 0, 0, 0].map(() => bucket.take(later).ok)).toEqual([true, true, true, false]);
  });
});
