import { describe, expect, it } from 'vitest';
import { addressProblem, roomUrl } from '../../src/shared/address.ts';

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

describe('the join form and joining agree', () => {
  it('the browser address the host panel hands out is accepted by the form and joins the room', () => {
    const handedOut = 'http://192.168.1.20:4747/';
    expect(addressProblem(handedOut)).toBeNull();
    expect(roomUrl(handedOut)).toBe('ws://192.168.1.20:4747/');
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
