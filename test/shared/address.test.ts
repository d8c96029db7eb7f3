import { describe, expect, it } from 'vitest';
import {
  addressProblem,
  beaconLink,
  MAX_BEACON_LINK_CHARS,
  parseBeaconLink,
  parseRoomAddress,
  roomUrl,
} from '../../src/shared/address.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';

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

describe('addresses and invites that would mislead', () => {
  const FP = '3f9a21c477b05e129c0daa431b7f6e20';

  it.each([
    `https://10.0.0.2:4747/#FP=${FP}`,
    `https://10.0.0.2:4747/# fp=${FP}`,
    `https://10.0.0.2:4747/#fingerprint=${FP}`,
    `https://10.0.0.2:4747/#x;fp=${FP}`,
    `https://10.0.0.2:4747/#fp%3D${FP}`,
  ])('an invite whose fingerprint is written another way is still pinned: %s', (invite) => {
    expect(parseRoomAddress(invite)).toMatchObject({ ok: true, fingerprint: FP });
  });

  it.each([
    [`https://10.0.0.2:4747/?fp=${FP}`, 'belongs after #'],
    [`https://10.0.0.2:4747/#fp=${FP}&fp=${'0'.repeat(32)}`, 'two fingerprints'],
    [`https://10.0.0.2:4747/#fpx=${FP}`, 'damaged'],
    ['https://10.0.0.2:4747/#fp=3f9a21c4', 'damaged'],
  ])('a damaged invite is refused, never joined without its fingerprint: %s', (invite, said) => {
    const parsed = parseRoomAddress(invite);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.problem).toContain(said);
  });

  it.each(['192.168.1.020', '010.0.0.1:4747', '0xc0.0xa8.1.20', 'host.0x1', 'pc.123'])(
    'an address a URL parser would read as another machine is refused: %s',
    (typed) => expect(roomUrl(typed)).toBeNull(),
  );

  it('a host name with a trailing dot is the same machine as without', () => {
    expect(roomUrl('laptop.local.:4747')).toBe(roomUrl('laptop.local:4747'));
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

describe('beacon: links (the desktop app opens them)', () => {
  const fp = '3f9a21c477b05e129c0daa431b7f6e20';
  const link = `beacon://192.168.1.20:4747/#fp=${fp}`;

  it('a link joins its room over wss:// and pins its fingerprint, like the https invite', () => {
    expect(parseRoomAddress(link)).toEqual({ ok: true, url: 'wss://192.168.1.20:4747/', fingerprint: fp, code: null });
    expect(parseBeaconLink(link)).toEqual({
      ok: true,
      url: 'wss://192.168.1.20:4747/',
      fingerprint: fp,
      code: null,
      address: `https://192.168.1.20:4747/#fp=${fp}`,
    });
  });

  it('the address it hands on is an invite the join form reads the same way, without the code', () => {
    const parsed = parseBeaconLink(`${link}&code=1234-5678`);
    expect(parsed).toMatchObject({ ok: true, code: '1234-5678' });
    if (!parsed.ok) return;
    expect(parsed.address).not.toContain('1234');
    expect(parseRoomAddress(parsed.address)).toEqual({ ok: true, url: parsed.url, fingerprint: fp });
  });

  it.each([
    [`${link}&code=12345678`, '12345678'],
    [`beacon://192.168.1.20:4747/#code=12345678&fp=${fp}`, '12345678'],
    [`${link}&code=${encodeURIComponent('caf\u00e9 & co #1=2')}`, 'caf\u00e9 & co #1=2'],
    [`${link}&code=${'x'.repeat(64)}`, 'x'.repeat(64)],
  ])('the code comes out decoded: %s', (input, code) => {
    expect(parseRoomAddress(input)).toMatchObject({ ok: true, code, fingerprint: fp });
  });

  it.each([
    [`BEACON://Laptop.Local:4747/#fp=${fp.toUpperCase()}`, 'wss://laptop.local:4747/'],
    [`beacon://[fe80::1]:4747#fp=${fp}`, 'wss://[fe80::1]:4747/'],
  ])('scheme, host and fingerprint in any case; IPv6; the slash optional: %s', (input, url) => {
    expect(parseBeaconLink(input)).toMatchObject({ ok: true, url, fingerprint: fp });
  });

  const hostile: [string, string][] = [
    ['a 10 KB link', `${link}&code=${'a'.repeat(10_000)}`],
    ['a 10 KB host', `beacon://${'a'.repeat(10_000)}:4747/#fp=${fp}`],
    ['no fingerprint', 'beacon://192.168.1.20:4747/'],
    ['an empty fragment', 'beacon://192.168.1.20:4747/#'],
    ['the fingerprint twice', `${link}&fp=${fp}`],
    ['two different fingerprints', `${link}&fp=${'0'.repeat(32)}`],
    ['the code twice', `${link}&code=1&code=2`],
    ['the fingerprint in the query', `beacon://192.168.1.20:4747/?fp=${fp}`],
    ['a query and a fragment', `beacon://192.168.1.20:4747/?x=1#fp=${fp}`],
    ['a path', `beacon://192.168.1.20:4747/room#fp=${fp}`],
    ['a dot path', `beacon://192.168.1.20:4747/../#fp=${fp}`],
    ['a double slash path', `beacon://192.168.1.20:4747//evil.example#fp=${fp}`],
    ['a backslash', `beacon://192.168.1.20:4747\\evil.example/#fp=${fp}`],
    ['a user name', `beacon://user@192.168.1.20:4747/#fp=${fp}`],
    ['a user name and password', `beacon://user:pw@192.168.1.20:4747/#fp=${fp}`],
    ['no port', `beacon://192.168.1.20/#fp=${fp}`],
    ['port 0', `beacon://192.168.1.20:0/#fp=${fp}`],
    ['port 70000', `beacon://192.168.1.20:70000/#fp=${fp}`],
    ['a cut-off fingerprint', `beacon://192.168.1.20:4747/#fp=${fp.slice(0, 31)}`],
    ['a fingerprint too long', `beacon://192.168.1.20:4747/#fp=${fp}0`],
    ['a fingerprint with colons', `beacon://192.168.1.20:4747/#fp=${fp.match(/.{2}/g)!.join(':')}`],
    ['a non-hex fingerprint', `beacon://192.168.1.20:4747/#fp=${'g'.repeat(32)}`],
    ['a percent-encoded fingerprint', `beacon://192.168.1.20:4747/#fp=%33${fp.slice(1)}`],
    ['a percent-encoded host', `beacon://192%2E168.1.20:4747/#fp=${fp}`],
    ['a percent-encoded slash in the host', `beacon://evil.example%2F@192.168.1.20:4747/#fp=${fp}`],
    ['a percent-encoded & smuggling a second fp', `${link}%26fp%3D${'0'.repeat(32)}`],
    ['an unknown key', `${link}&next=javascript:alert(1)`],
    ['a key without a value', `${link}&code`],
    ['an empty code', `${link}&code=`],
    ['a code of 65 characters', `${link}&code=${'x'.repeat(65)}`],
    ['a broken percent-encoding', `${link}&code=%E0%A4%A`],
    ['a code with a bidi override', `${link}&code=${encodeURIComponent('12\u202e34')}`],
    ['a code with a zero-width space', `${link}&code=${encodeURIComponent('12\u200b34')}`],
    ['a code with a newline', `${link}&code=${encodeURIComponent('12\n34')}`],
    ['a code with a NUL', `${link}&code=%00`],
    ['a code with spaces around it', `${link}&code=%2012`],
    ['a raw (not percent-encoded) accented code', `${link}&code=caf\u00e9`],
    ['a raw space in the code', `${link}&code=12 34`],
    ['a raw bidi override', `beacon://192.168.1.20:4747/#fp=${fp}&code=12\u202e34`],
    ['a Unicode host', `beacon://b\u00e9acon.local:4747/#fp=${fp}`],
    ['a Cyrillic look-alike host', `beacon://l\u0430ptop.local:4747/#fp=${fp}`],
    ['a full-width scheme', `\uff42eacon://192.168.1.20:4747/#fp=${fp}`],
    ['a space inside', `beacon://192.168.1.20:4747/ #fp=${fp}`],
    ['a tab inside', `beacon://192.168.1.20:4747/\t#fp=${fp}`],
    ['two fragments', `${link}#fp=${fp}`],
    ['no slashes', `beacon:192.168.1.20:4747#fp=${fp}`],
    ['javascript: in the host', `beacon://javascript:alert(1)/#fp=${fp}`],
    ['a host that is not one', `beacon://300.1.1.1:4747/#fp=${fp}`],
  ];

  it.each(hostile)('refuses %s', (_what, input) => {
    const parsed = parseBeaconLink(input);
    expect(parsed.ok).toBe(false);
    expect(roomUrl(input)).toBeNull();
    // The sentence never repeats the link, which may carry a code.
    if (!parsed.ok) expect(parsed.problem).not.toContain('192.168');
  });

  it.each([
    [`beacon://user@192.168.1.20:4747/#fp=${fp}`, /user name/],
    [`beacon://user:pw@192.168.1.20:4747/#fp=${fp}`, /user name/],
    [`beacon://192%2E168.1.20:4747/#fp=${fp}`, /host .*written in a way/],
    [`beacon://192.168.1.20/#fp=${fp}`, /port/],
  ])('says what is wrong without repeating the link: %s', (input, problem) => {
    expect(parseBeaconLink(input)).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });

  it.each([
    'javascript:alert(1)',
    `javascript://192.168.1.20:4747/#fp=${fp}`,
    `https://192.168.1.20:4747/#fp=${fp}`,
    'file:///etc/passwd',
    '',
  ])('only beacon: links are Beacon links: %j', (input) => expect(parseBeaconLink(input).ok).toBe(false));

  it('a link of 10 KB is refused at once, before any pattern runs over it', () => {
    const huge = `beacon://${'9'.repeat(10_000)}`;
    expect(huge.length).toBeGreaterThan(MAX_BEACON_LINK_CHARS);
    expect(parseBeaconLink(huge)).toEqual({ ok: false, problem: expect.stringMatching(/too long/) });
    expect(addressProblem(`${link}&code=${'a'.repeat(10_000)}`)).toMatch(/too long/);
  });
});

describe('the beacon: link the host hands out', () => {
  const fp = '3f9a21c477b05e129c0daa431b7f6e20' as Fingerprint;
  const info = {
    webAddresses: ['https://192.168.1.20:4747/', 'https://[fe80::1]:4747/'],
    fingerprint: fp,
    code: '1234 5678',
  };

  it('carries the first address and the fingerprint, and the code only when asked', () => {
    expect(beaconLink(info, { withCode: false })).toBe(`beacon://192.168.1.20:4747/#fp=${fp}`);
    expect(beaconLink(info, { withCode: true })).toBe(`beacon://192.168.1.20:4747/#fp=${fp}&code=1234%205678`);
  });

  it('reads back as the same room, pin and code', () => {
    const link = beaconLink(info, { withCode: true })!;
    expect(parseRoomAddress(link)).toEqual({
      ok: true,
      url: 'wss://192.168.1.20:4747/',
      fingerprint: fp,
      code: '1234 5678',
    });
  });

  it('a room without a code gives a link without one, even when asked', () => {
    expect(beaconLink({ ...info, code: null }, { withCode: true })).toBe(`beacon://192.168.1.20:4747/#fp=${fp}`);
  });

  it('a code any link would be refused with is left out rather than carried', () => {
    expect(beaconLink({ ...info, code: 'a\u202eb' }, { withCode: true })).toBe(`beacon://192.168.1.20:4747/#fp=${fp}`);
  });

  it('an unencrypted host (no fingerprint) or no address gives no link', () => {
    expect(beaconLink({ ...info, fingerprint: null }, { withCode: true })).toBeNull();
    expect(beaconLink({ ...info, webAddresses: [] }, { withCode: false })).toBeNull();
    expect(beaconLink({ ...info, webAddresses: ['http://192.168.1.20:4747/'] }, { withCode: false })).toBeNull();
  });
});
