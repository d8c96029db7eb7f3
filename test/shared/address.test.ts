import { describe, expect, it } from 'vitest';
import { addressProblem, parseRoomAddress, roomUrl } from '../../src/shared/address.ts';

describe('room addresses people type', () => {
  it.each([
    ['192.168.1.20', 'wss://192.168.1.20:4747/'],
    ['192.168.1.20:5000', 'wss://192.168.1.20:5000/'],
    ['https://10.0.0.2:4747/', 'wss://10.0.0.2:4747/'],
    ['  [::1]:4747 ', 'wss://[::1]:4747/'],
    ['wss://chat.example', 'wss://chat.example/'],
  ])('a bare or https address is encrypted: %s → %s', (input, url) => expect(roomUrl(input)).toBe(url));

  it.each([
    ['ws://host.local:4747', 'ws://host.local:4747/'],
    ['http://10.0.0.2:4747/', 'ws://10.0.0.2:4747/'],
  ])('only ws:// or http:// written out connects without encryption: %s → %s', (input, url) =>
    expect(roomUrl(input)).toBe(url),
  );

  it.each(['', 'not an address', 'ftp://host', 'http://', 'user:pw@host:1'])('rejects %j', (input) =>
    expect(roomUrl(input)).toBeNull(),
  );
});

describe('invites', () => {
  const fp = '3f9a21c477b05e129c0daa431b7f6e20';

  it('the invite the host hands out joins its address and pins its fingerprint', () => {
    expect(parseRoomAddress(`https://192.168.1.20:4747/#fp=${fp}`)).toEqual({
      ok: true,
      url: 'wss://192.168.1.20:4747/',
      fingerprint: fp,
    });
  });

  it.each([
    `https://192.168.1.20:4747/#fp=${fp.toUpperCase().match(/.{4}/g)!.join(' ')}`,
    `https://192.168.1.20:4747/#fp=${fp.match(/.{2}/g)!.join(':')}`,
    `https://192.168.1.20:4747/#fp=${encodeURIComponent(fp.match(/.{4}/g)!.join(' '))}`,
    `192.168.1.20:4747#fp=${fp}`,
  ])('a fingerprint read aloud, with colons, or percent-encoded pins the same: %s', (invite) => {
    const parsed = parseRoomAddress(invite);
    expect(parsed).toMatchObject({ ok: true, url: 'wss://192.168.1.20:4747/', fingerprint: fp });
  });

  it('a plain address pins nothing (trust on first use)', () => {
    expect(parseRoomAddress('192.168.1.20:4747')).toMatchObject({ ok: true, fingerprint: null });
  });

  it('a cut-off fingerprint is a problem, never an address without a pin', () => {
    expect(addressProblem(`https://192.168.1.20:4747/#fp=${fp.slice(0, 20)}`)).toMatch(/fingerprint/);
    expect(roomUrl(`https://192.168.1.20:4747/#fp=${fp.slice(0, 20)}`)).toBeNull();
  });

  it('a fingerprint with an unencrypted address is refused, not joined in clear', () => {
    expect(addressProblem(`http://192.168.1.20:4747/#fp=${fp}`)).toMatch(/https/);
  });
});

describe('the join form and joining agree', () => {
  it('the browser address the host panel hands out is accepted by the form and joins the room', () => {
    const handedOut = 'https://192.168.1.20:4747/';
    expect(addressProblem(handedOut)).toBeNull();
    expect(roomUrl(handedOut)).toBe('wss://192.168.1.20:4747/');
  });

  it.each([
    '192.168.1.20',
    'ws://host.local',
    'https://chat.example/',
    '300.1.1.1',
    'foo:bar:1',
    'my host',
    'ftp://x',
    '',
  ])('%j is either a room (no problem) or a problem (no room), never both', (input) =>
    expect(addressProblem(input) === null).toBe(roomUrl(input) !== null),
  );
});
