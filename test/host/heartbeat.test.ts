/**
 * The host's heartbeat on fake time: when each member is pinged (visited),
 * whoever else comes and goes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/host/heartbeat.ts';

const INTERVAL = 1_000;
const SLICES = 10;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'], now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

/** A heartbeat that records when each member was visited. */
function heartbeat(onVisit: (name: string, heartbeat: Heartbeat<string>) => void = () => {}) {
  const visits = new Map<string, number[]>();
  const rounds: number[] = [];
  const beat: Heartbeat<string> = new Heartbeat<string>({
    intervalMs: INTERVAL,
    slices: SLICES,
    visit: (name) => {
      visits.set(name, [...(visits.get(name) ?? []), Date.now()]);
      onVisit(name, beat);
    },
    onRound: () => rounds.push(Date.now()),
  });
  const gaps = (name: string): number[] => {
    const times = visits.get(name) ?? [];
    return times.slice(1).map((time, i) => time - times[i]!);
  };
  return { beat, visits, rounds, gaps };
}

describe('the heartbeat', () => {
  it('a member alone in the room is pinged once per interval, not once per slice', () => {
    const { beat, visits, gaps } = heartbeat();
    beat.add('solo');
    vi.advanceTimersByTime(5 * INTERVAL);
    expect(visits.get('solo')).toHaveLength(5);
    expect(gaps('solo')).toEqual([INTERVAL, INTERVAL, INTERVAL, INTERVAL]);
    beat.stop();
  });

  it('a newcomer is first pinged within one interval of joining', () => {
    const { beat, visits } = heartbeat();
    vi.advanceTimersByTime(INTERVAL / 2 + 30);
    const joinedAt = Date.now();
    beat.add('newcomer');
    vi.advanceTimersByTime(INTERVAL);
    expect(visits.get('newcomer')).toHaveLength(1);
    expect(visits.get('newcomer')![0]! - joinedAt).toBeLessThanOrEqual(INTERVAL);
    beat.stop();
  });

  it('every member is pinged once per interval, and the pings are spread over it rather than all at once', () => {
    const { beat, visits } = heartbeat();
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const name of names) beat.add(name);
    vi.advanceTimersByTime(INTERVAL);
    for (const name of names) expect(visits.get(name)).toHaveLength(1);
    const perMoment = new Map<number, number>();
    for (const [time] of visits.values()) perMoment.set(time!, (perMoment.get(time!) ?? 0) + 1);
    expect(perMoment.size).toBe(SLICES);
    expect([...perMoment.values()]).toEqual(Array(SLICES).fill(50 / SLICES));
    beat.stop();
  });

  it('a member keeps its own schedule while others come and go', () => {
    const { beat, gaps } = heartbeat();
    beat.add('steady');
    for (let step = 0; step < 100; step++) {
      beat.add(`visitor ${step}`);
      if (step >= 3) beat.remove(`visitor ${step - 3}`);
      vi.advanceTimersByTime(37 + (step % 5) * 20);
    }
    const steady = gaps('steady');
    expect(steady.length).toBeGreaterThan(5);
    expect(new Set(steady)).toEqual(new Set([INTERVAL]));
    beat.stop();
  });

  it('a member that leaves is not pinged again, even by a visit that removes it', () => {
    const { beat, visits } = heartbeat((name, own) => {
      if (name === 'silent') own.remove(name);
    });
    beat.add('gone');
    beat.add('silent');
    beat.add('silent');
    beat.remove('gone');
    vi.advanceTimersByTime(3 * INTERVAL);
    expect(visits.has('gone')).toBe(false);
    expect(visits.get('silent')).toHaveLength(1);
    beat.stop();
  });

  it('a round begins once per interval, and nothing happens after stop()', () => {
    const { beat, rounds, visits } = heartbeat();
    beat.add('a');
    vi.advanceTimersByTime(3 * INTERVAL);
    expect(rounds).toEqual([100, 1_100, 2_100]);
    beat.stop();
    vi.advanceTimersByTime(3 * INTERVAL);
    expect(rounds).toHaveLength(3);
    expect(visits.get('a')).toHaveLength(3);
  });
});
