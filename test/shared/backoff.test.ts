import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_BACKOFF, ReconnectSchedule, backoffDelay } from '../../src/shared/backoff.ts';

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

describe('what a person sees after losing the connection', () => {
  const schedule = () => {
    let tries = 0;
    const reconnects = new ReconnectSchedule({
      backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
      offlineAfterAttempts: 2,
      random: () => 1,
      now: () => Date.now(),
    });
    const lose = () => reconnects.afterLoss('ws://host/', 'BEACON_ERR_NETWORK', 'lost', () => tries++);
    return { reconnects, lose, tries: () => tries };
  };

  it('"reconnecting" with the attempt number, then "offline" with the next try, each after a longer wait', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const { reconnects, lose, tries } = schedule();
      expect(lose()).toMatchObject({ kind: 'reconnecting', attempt: 1, nextRetryAt: 100 });
      vi.advanceTimersByTime(100);
      expect(tries()).toBe(1);
      expect(lose()).toMatchObject({ kind: 'reconnecting', attempt: 2, nextRetryAt: 300 });
      vi.advanceTimersByTime(200);
      expect(lose()).toMatchObject({ kind: 'offline', reason: 'BEACON_ERR_NETWORK', nextRetryAt: 700 });
      expect(reconnects.nextAttempt).toBe(4);
      reconnects.welcomed();
      expect(reconnects.nextAttempt).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a cancelled attempt never starts', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const { reconnects, lose, tries } = schedule();
      lose();
      reconnects.cancel();
      vi.advanceTimersByTime(10_000);
      expect(tries()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('after the host stopped the room', () => {
  it('says "offline" from the first attempt, with the slow backoff, and counts no attempts out loud', () => {
    vi.useFakeTimers();
    try {
      const reconnects = new ReconnectSchedule({
        backoff: DEFAULT_BACKOFF,
        offlineAfterAttempts: 4,
        random: () => 1,
        now: () => 0,
      });
      const lose = () =>
        reconnects.afterLoss('ws://host/', 'BEACON_ERR_HOST_STOPPED', 'The host stopped the room.', () => {}, true);
      const states = [lose(), lose(), lose(), lose(), lose(), lose()];
      expect(states.map((s) => s.kind)).toEqual(Array(6).fill('offline'));
      expect(states.map((s) => (s.kind === 'offline' ? s.nextRetryAt : null))).toEqual([
        2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
      ]);
      reconnects.cancel();
    } finally {
      vi.useRealTimers();
    }
  });
});
