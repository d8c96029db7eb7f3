/**
 * Rooms nearby without a DOM: which recent room is on the same machine, what
 * `join` is handed, the filter, the QR drawing, and how the state follows the
 * snapshot and the events (an 'nearby' event held while the snapshot loads
 * is applied after it; an invite opened from inside a room waits for the start screen).
 */
import jsQR from 'jsqr';
import { encode } from 'uqr';
import { describe, expect, it } from 'vitest';
import type { RecentRoom } from '../../src/shared/chat-api.ts';
import type { NearbyRoom } from '../../src/shared/discovery.ts';
import type { Fingerprint } from '../../src/shared/fingerprint.ts';
import {
  filteredRooms,
  joinAddressOf,
  joinedBefore,
  machineOf,
  sortedRooms,
} from '../../src/renderer/src/lib/nearby.ts';
import { qrDrawing } from '../../src/renderer/src/lib/qr.ts';
import { ChatState } from '../../src/renderer/src/state/chat.svelte.ts';
import { Clock } from '../../src/renderer/src/state/clock.svelte.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { lab } from './fixtures.ts';

const FP = '3f9a21c477b05e129c0daa431b7f6e20' as Fingerprint;

const room = (fields: Partial<NearbyRoom>): NearbyRoom => ({
  id: 'x',
  roomName: 'Lab',
  hostName: 'Hana',
  address: '192.168.1.20:4747',
  addresses: ['192.168.1.20:4747'],
  codeRequired: false,
  protocolVersion: 1,
  fingerprint: FP,
  encrypted: true,
  lastSeen: 0,
  ...fields,
});

const recent = (address: string): RecentRoom => ({ address, roomName: 'Lab', code: '', name: 'Me', lastJoined: 1 });

describe('which room was joined before', () => {
  it('one machine however its address was written: bare, wss://, an invite, upper case', () => {
    expect(machineOf('192.168.1.20:4747')).toBe('192.168.1.20:4747');
    expect(machineOf(`https://192.168.1.20:4747/#fp=${FP}`)).toBe('192.168.1.20:4747');
    expect(machineOf('WSS://Beacon-PC.local:4747')).toBe('beacon-pc.local:4747');
    for (const written of ['wss://192.168.1.20:4747', `https://192.168.1.20:4747/#fp=${FP}`, '192.168.1.20']) {
      expect(joinedBefore(room({}), [recent(written)])).toBe(true);
    }
  });

  it('another port or another machine is another room', () => {
    expect(joinedBefore(room({}), [recent('192.168.1.20:4800')])).toBe(false);
    expect(joinedBefore(room({}), [recent('192.168.1.21:4747')])).toBe(false);
    expect(joinedBefore(room({}), [])).toBe(false);
  });

  it('any address the announcement gave counts (IPv6 as well as IPv4)', () => {
    const both = room({ addresses: ['192.168.1.20:4747', '[fe80::1]:4747'] });
    expect(joinedBefore(both, [recent('wss://[fe80::1]:4747')])).toBe(true);
    // Names are compared as the address parser writes them (lower case), on both sides.
    const named = room({ address: 'Beacon-PC.local:4747', addresses: ['Beacon-PC.local:4747'] });
    expect(joinedBefore(named, [recent('beacon-pc.local:4747')])).toBe(true);
  });
});

describe('what joining a room nearby hands to join', () => {
  it('an encrypted room: the address with the announced fingerprint as an invite’s pin', () => {
    expect(joinAddressOf(room({}))).toBe(`https://192.168.1.20:4747/#fp=${FP}`);
  });

  it('an unencrypted room: ws://, since a bare address means encrypted', () => {
    expect(joinAddressOf(room({ fingerprint: null, encrypted: false }))).toBe('ws://192.168.1.20:4747');
  });
});

describe('the list', () => {
  it('sorts by name, then host, then address, and filters on every word typed', () => {
    const rooms = [
      room({ id: 'b', roomName: 'Lab', hostName: 'Omar' }),
      room({ id: 'a', roomName: 'Lab', hostName: 'Hana' }),
      room({ id: 'c', roomName: 'Design', hostName: 'Ida', address: '10.0.0.5:4747' }),
    ];
    expect(sortedRooms(rooms).map((r) => r.id)).toEqual(['c', 'a', 'b']);
    const numbered = [room({ id: '10', roomName: 'Room 10' }), room({ id: '2', roomName: 'Room 2' })];
    expect(sortedRooms(numbered).map((r) => r.id)).toEqual(['2', '10']);
    expect(filteredRooms(rooms, '  lab  OMAR ').map((r) => r.id)).toEqual(['b']);
    expect(filteredRooms(rooms, '10.0.0.5').map((r) => r.id)).toEqual(['c']);
    expect(filteredRooms(rooms, '')).toBe(rooms);
  });
});

describe('the QR code', () => {
  it('draws exactly the modules uqr computes, with a four-module quiet zone, and reads back as the text', () => {
    const text = `https://192.168.1.20:4747/#fp=${FP}`;
    const drawing = qrDrawing(text);
    const reference = encode(text, { ecc: 'M', border: 4 });
    expect(drawing.size).toBe(reference.size);
    // Paint the path's rectangles into a bitmap, 4 pixels a module, and let a decoder read it.
    const scale = 4;
    const side = drawing.size * scale;
    const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
    const dark = new Set<string>();
    for (const [, x, y, run] of drawing.path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      for (let i = 0; i < Number(run); i++) dark.add(`${Number(x) + i},${y}`);
    }
    for (let y = 0; y < drawing.size; y++) {
      for (let x = 0; x < drawing.size; x++) {
        expect(dark.has(`${x},${y}`)).toBe(reference.data[y]![x]);
        if (!dark.has(`${x},${y}`)) continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const at = ((y * scale + dy) * side + x * scale + dx) * 4;
            pixels.fill(0, at, at + 3);
          }
        }
      }
    }
    expect(reference.data[3]!.some(Boolean)).toBe(false);
    expect(reference.data[4]![4]).toBe(true);
    expect(jsQR(pixels, side, side)?.data).toBe(text);
  });
});

class StillClock extends Clock {
  override start(): void {}
}

describe('the state', () => {
  it('follows the snapshot, then each nearby event; a snapshot without rooms nearby leaves them unavailable', async () => {
    const api = createFakeChatApi({
      snapshot: { nearby: { rooms: [room({})], status: { state: 'searching', since: 5 } } },
    });
    const chat = new ChatState(api, { clock: new StillClock() });
    await chat.start();
    expect(chat.nearby.available).toBe(true);
    expect(chat.nearby.rooms).toHaveLength(1);
    api.emit({ type: 'nearby', rooms: [], status: { state: 'failed', reason: 'No network.' } });
    expect(chat.nearby.rooms).toEqual([]);
    expect(chat.nearby.status).toEqual({ state: 'failed', reason: 'No network.' });

    // Browsing turned off: the start screen says so in one line instead of listing.
    api.emit({ type: 'nearby', rooms: [], status: { state: 'off' } });
    expect(chat.nearby.available).toBe(false);

    const without = new ChatState(createFakeChatApi(), { clock: new StillClock() });
    await without.start();
    expect(without.nearby.available).toBe(false);
  });

  it('an invite opened inside a room waits for the start screen, and the person is told', async () => {
    const api = createFakeChatApi({
      snapshot: { room: lab(), connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 1 } },
    });
    const chat = new ChatState(api, { clock: new StillClock() });
    await chat.start();
    expect(chat.room.inRoom).toBe(true);
    api.emit({ type: 'openInvite', address: '192.168.1.20:4747', code: null });
    expect(chat.nearby.invite).toMatchObject({ address: '192.168.1.20:4747', code: null });
    expect(chat.room.notice).toContain('leave this room to join it');
  });
});
