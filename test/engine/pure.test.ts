import { describe, expect, it } from 'vitest';
import { roomUrl } from '../../src/shared/address.ts';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/shared/backoff.ts';
import { decodeClientFrame, decodeHostFrames } from '../../src/shared/protocol.ts';
import { TokenBucket } from '../../src/shared/token-bucket.ts';
import { guardKey, JoinGuard } from '../../src/host/join-guard.ts';
import { isLoopback, isOwnHostName } from '../../src/host/lan-addresses.ts';

describe('room addresses people type', () => {
  it.each([
    ['192.168.1.20', 'ws://192.168.1.20:4747/'],
    ['192.168.1.20:5000', 'ws://192.168.1.20:5000/'],
    ['ws://host.local:4747', 'ws://host.local:4747/'],
    ['http://10.0.0.2:4747/', 'ws://10.0.0.2:4747/'],
    ['  [::1]:4747 ', 'ws://[::1]:4747/'],
    ['wss://chat.example', 'wss://chat.example/'],
  ])('%s → %s', (input, url) => expect(roomUrl(input)).toBe(url));

  it.each(['', 'not an address', 'ftp://host', 'http://', 'user:pw@host:1'])('rejects %j', (input) =>
    expect(roomUrl(input)).toBeNull(),
  );
});

describe('reconnect backoff', () => {
  it('grows exponentially to a cap of about 10 s, with jitter that never drops below half', () => {
    const low = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 0);
    const high = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 1);
    expect([1, 2, 3, 4, 5].map(high)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(high(10)).toBe(10_000);
    expect(low(10)).toBe(5_000);
    expect(low(1)).toBe(250);
  });
});

describe('wire frames', () => {
  it('accepts a valid hello and names what is wrong with an invalid one', () => {
    expect(decodeClientFrame('{"type":"hello","v":1,"name":"Ann"}')).toMatchObject({ ok: true });
    expect(decodeClientFrame('{"type":"hello","v":1,"name":""}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientFrame('{"type":"send","clientId":"c","text":5}')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('send.text'),
    });
    expect(decodeClientFrame('[1,2]')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientFrame('{"type":"dance"}')).toMatchObject({ ok: false, reason: 'unknown-type' });
  });

  it('reads a batch of host frames and skips only the bad element', () => {
    const frames = decodeHostFrames(
      '[{"type":"pong","id":1,"t":2},{"type":"future"},{"type":"ack","clientId":"c","seq":1,"ts":3}]',
    );
    expect(frames.map((f) => f.ok)).toEqual([true, false, true]);
  });
});

describe('rate limit and lockout', () => {
  it('a token bucket allows the burst, then the rate, and says how long to wait', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([0, 0, 0].map(() => bucket.take(0).ok)).toEqual([true, true, true]);
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(bucket.take(100).ok).toBe(true);
  });

  const guardOptions = {
    delayStepMs: 500,
    lockoutAfter: 3,
    lockoutMs: 60_000,
    maxLockoutMs: 600_000,
    roomWrongPerMinute: 30,
    roomWrongBurst: 30,
  };

  it('wrong codes are answered ever slower, then the address is locked out for a while', () => {
    const guard = new JoinGuard(guardOptions, 0);
    expect(guard.recordFailure('a', 0)).toEqual({ delayMs: 500, lockedOut: false });
    expect(guard.recordFailure('a', 0)).toEqual({ delayMs: 1000, lockedOut: false });
    expect(guard.mayCheck('a', 0).ok).toBe(true);
    expect(guard.recordFailure('a', 0).lockedOut).toBe(true);
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

describe('which names a browser may use for the host', () => {
  it('accepts this machine’s own names and addresses, and nothing else', () => {
    expect(isOwnHostName('127.0.0.1', undefined)).toBe(true);
    expect(isOwnHostName('localhost', undefined)).toBe(true);
    expect(isOwnHostName('[::1]', undefined)).toBe(true);
    expect(isOwnHostName('evil.example', undefined)).toBe(false);
    expect(isOwnHostName('203.0.113.7', undefined)).toBe(false);
  });

  it('knows the host’s own loopback connections', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.2', '::ffff:192.168.1.4', 'fe80::1'].map(isLoopback)).toEqual([false, false, false]);
  });
});
