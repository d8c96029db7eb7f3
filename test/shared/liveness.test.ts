/** Liveness alone: round-trip time from pongs, and a silent host noticed within two intervals. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Liveness } from '../../src/shared/liveness.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

function liveness() {
  const pings: { id: number; t: number }[] = [];
  let silent = 0;
  const live = new Liveness({
    now: () => Date.now(),
    ping: (id, t) => pings.push({ id, t }),
    onSilent: () => silent++,
  });
  return { live, pings, silent: () => silent };
}

describe('a host that answers', () => {
  it('is pinged once per interval and its round-trip time measured', () => {
    const { live, pings } = liveness();
    live.start(1_000);
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1_000);
      live.heard();
    }
    expect(pings.map((p) => p.id)).toEqual([1, 2, 3]);
    vi.advanceTimersByTime(40);
    live.heard();
    expect(live.pong(pings[2]!.t)).toBe(40);
    expect(live.rttMs).toBe(40);
  });

  it('that keeps talking is never taken for gone', () => {
    const { live, silent } = liveness();
    live.start(1_000);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(900);
      live.heard();
    }
    expect(silent()).toBe(0);
  });
});

describe('a host that goes silent', () => {
  it('is given up within two to three intervals of the last thing heard, once', () => {
    const { live, silent } = liveness();
    live.start(1_000);
    vi.advanceTimersByTime(2_000);
    expect(silent()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(silent()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(silent()).toBe(1);
  });

  it('stops being pinged once stopped', () => {
    const { live, pings } = liveness();
    live.start(1_000);
    live.stop();
    vi.advanceTimersByTime(5_000);
    expect(pings).toEqual([]);
  });
});
