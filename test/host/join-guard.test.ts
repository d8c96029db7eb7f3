import { afterEach, describe, expect, it, vi } from 'vitest';
import { guardKey, JoinGuard } from '../../src/host/join-guard.ts';

afterEach(() => {
  vi.useRealTimers();
});

const guardOptions = {
  delayStepMs: 500,
  lockoutAfter: 3,
  lockoutMs: 60_000,
  maxLockoutMs: 600_000,
  roomWrongPerMinute: 30,
  roomWrongBurst: 30,
};

describe('lockout', () => {
  it('wrong codes are answered ever slower, then the address is locked out for a while', () => {
    const guard = new JoinGuard(guardOptions, 0);
    expect(guard.recordFailure('a', 0)).toEqual({ delayMs: 500, lockedOut: false, lockedForMs: 0 });
    expect(guard.recordFailure('a', 0)).toEqual({ delayMs: 1000, lockedOut: false, lockedForMs: 0 });
    expect(guard.mayCheck('a', 0).ok).toBe(true);
    // The failure that locks says for how long, so the refusal can carry a countdown.
    expect(guard.recordFailure('a', 0)).toMatchObject({ lockedOut: true, lockedForMs: 60_000 });
    expect(guard.mayCheck('a', 59_999)).toEqual({ ok: false, reason: 'locked-out', retryAfterMs: 1 });
    expect(guard.mayCheck('b', 0).ok).toBe(true);
    expect(guard.mayCheck('a', 60_001).ok).toBe(true);
  });

  it('an address locked out again waits twice as long each time, up to the maximum', () => {
    const guard = new JoinGuard(guardOptions, 0);
    const lockOut = (at: number): void => {
      for (let i = 0; i < 3; i++) guard.recordFailure('a', at);
    };
    lockOut(0);
    expect(guard.mayCheck('a', 60_001).ok).toBe(true);
    lockOut(60_001);
    expect(guard.mayCheck('a', 60_001 + 119_999).ok).toBe(false);
    expect(guard.mayCheck('a', 60_001 + 120_001).ok).toBe(true);
  });

  it('the whole room answers only its budget of wrong codes, whatever the number of addresses', () => {
    const guard = new JoinGuard(guardOptions, 0);
    let answered = 0;
    for (let i = 0; i < 1_000; i++) {
      const address = `10.0.${Math.floor(i / 250)}.${i % 250}`;
      if (!guard.mayCheck(address, 0).ok) continue;
      guard.recordFailure(address, 0);
      answered++;
    }
    expect(answered).toBe(30);
    expect(guard.mayCheck('10.9.9.9', 0)).toMatchObject({ ok: false, reason: 'room-busy' });
    // The budget refills at 30 a minute: one more every 2 s.
    expect(guard.mayCheck('10.9.9.9', 2_000).ok).toBe(true);
  });

  it('guesses from other addresses never erase a lockout', () => {
    const guard = new JoinGuard({ ...guardOptions, roomWrongPerMinute: 1e9, roomWrongBurst: 1e9 }, 0);
    for (let i = 0; i < 3; i++) guard.recordFailure('victim', 0);
    for (let i = 0; i < 20_000; i++) guard.recordFailure(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1);
    expect(guard.mayCheck('victim', 2).ok).toBe(false);
  });

  it('counts an IPv6 guesser per /64, so rotating addresses does not help', () => {
    expect(guardKey('fe80::1')).toBe(guardKey('fe80::dead:beef:1:2'));
    expect(guardKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(guardKey('2001:db8:1:3::1')).not.toBe(guardKey('2001:db8:1:2::1'));
    expect(guardKey('::ffff:192.168.1.9')).toBe('192.168.1.9');
    expect(guardKey('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('on the clock', () => {
  // The guard reads Date.now() when it is given no time, as the host calls it.
  const onTheClock = (): void => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: 1_700_000_000_000 });
  };

  it('the answer to each wrong code waits one step longer than the last, never more than 5 s', () => {
    onTheClock();
    const guard = new JoinGuard({ ...guardOptions, delayStepMs: 2_000, lockoutAfter: 10 });
    const delays = Array.from({ length: 5 }, () => guard.recordFailure('10.0.0.5').delayMs);
    expect(delays).toEqual([2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('a wrong answer scheduled with the returned delay arrives exactly then', () => {
    onTheClock();
    const guard = new JoinGuard(guardOptions);
    const answered: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 2; i++) {
      const { delayMs } = guard.recordFailure('10.0.0.5');
      setTimeout(() => answered.push(Date.now() - started), delayMs);
    }
    vi.advanceTimersByTime(499);
    expect(answered).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(answered).toEqual([500]);
    vi.advanceTimersByTime(500);
    expect(answered).toEqual([500, 1_000]);
  });

  it('the lockout ends when its time is up, and the next one lasts twice as long', () => {
    onTheClock();
    const guard = new JoinGuard(guardOptions);
    for (let i = 0; i < 3; i++) guard.recordFailure('10.0.0.5');
    expect(guard.mayCheck('10.0.0.5')).toEqual({ ok: false, reason: 'locked-out', retryAfterMs: 60_000 });
    vi.advanceTimersByTime(59_999);
    expect(guard.mayCheck('10.0.0.5')).toEqual({ ok: false, reason: 'locked-out', retryAfterMs: 1 });
    vi.advanceTimersByTime(1);
    expect(guard.mayCheck('10.0.0.5').ok).toBe(true);
    for (let i = 0; i < 3; i++) guard.recordFailure('10.0.0.5');
    expect(guard.mayCheck('10.0.0.5')).toMatchObject({ retryAfterMs: 120_000 });
  });

  it('a right code clears the mistakes, so a person who mistyped once is not locked out later', () => {
    onTheClock();
    const guard = new JoinGuard(guardOptions);
    guard.recordFailure('10.0.0.5');
    guard.recordFailure('10.0.0.5');
    guard.recordSuccess('10.0.0.5');
    vi.advanceTimersByTime(1_000);
    expect(guard.recordFailure('10.0.0.5')).toEqual({ delayMs: 500, lockedOut: false, lockedForMs: 0 });
  });

  it('old mistakes are forgiven after a quiet lockout period, and the record is then forgotten', () => {
    onTheClock();
    const guard = new JoinGuard(guardOptions);
    guard.recordFailure('10.0.0.5');
    guard.recordFailure('10.0.0.5');
    vi.advanceTimersByTime(60_001);
    expect(guard.recordFailure('10.0.0.5')).toEqual({ delayMs: 500, lockedOut: false, lockedForMs: 0 });
    expect(guard.size).toBe(1);
    guard.prune();
    expect(guard.size).toBe(1);
    vi.advanceTimersByTime(60_001);
    guard.prune();
    expect(guard.size).toBe(0);
  });
});
