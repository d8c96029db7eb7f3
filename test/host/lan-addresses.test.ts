import { describe, expect, it } from 'vitest';
import { isLoopback, isOwnHostName } from '../../src/host/lan-addresses.ts';

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
