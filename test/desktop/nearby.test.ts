/**
 * Rooms nearby in the desktop app, as two people with two apps on loopback
 * (interface 127.0.0.1 and an mDNS port of this test's own: nothing reaches
 * the real network): a hosted room is announced with the host's name, the
 * other app lists it in its snapshot and 'nearby' events, joins it the way
 * the start screen does (the invite form of its address and fingerprint), and
 * sees it go when hosting stops.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import type { NearbyRoom } from '../../src/shared/discovery.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

function app(mdnsPort: number) {
  const dir = tempDir();
  const events: ChatEvent[] = [];
  const settings = new SettingsFile(join(dir, 'settings.json'));
  const session = new DesktopChat({
    settings,
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    discovery: { interface: '127.0.0.1', mdnsPort },
  });
  sessions.push(session);
  /** The rooms of the last 'nearby' event. */
  const nearby = (): NearbyRoom[] =>
    events.flatMap((event) => (event.type === 'nearby' ? [event.rooms] : [])).at(-1) ?? [];
  return { session, events, settings, nearby };
}

describe('rooms nearby in the desktop app', () => {
  it('lists a hosted room with the host’s name, joins it by its invite form, and drops it when hosting stops', async () => {
    const mdnsPort = 40_000 + Math.floor(Math.random() * 20_000);
    const hana = app(mdnsPort);
    const ben = app(mdnsPort);
    const first = await ben.session.getState();
    expect(first.ok && first.value.nearby).toMatchObject({ rooms: [], status: { state: 'searching' } });

    const hosted = await hana.session.host({ roomName: 'Design team', name: 'Hana', port: 0, code: '1234' });
    if (!hosted.ok) throw new Error(hosted.error.message);
    await expect.poll(() => ben.nearby().map((room) => room.roomName), { timeout: 4_000 }).toEqual(['Design team']);
    const room = ben.nearby()[0]!;
    expect(room).toMatchObject({
      hostName: 'Hana',
      address: `127.0.0.1:${hosted.value.port}`,
      codeRequired: true,
      fingerprint: hosted.value.fingerprint,
      encrypted: true,
    });
    const snapshot = await ben.session.getState();
    expect(snapshot.ok && snapshot.value.nearby?.rooms.map((r) => r.id)).toEqual([room.id]);

    // What the start screen sends for a nearby room: the invite form, so the fingerprint is the pin.
    const joined = await ben.session.join({
      address: `https://${room.address}/#fp=${room.fingerprint}`,
      name: 'Ben',
      code: '1234',
    });
    expect(joined).toEqual({ ok: true, value: null });
    await ben.session.leave();
    expect(ben.settings.recentRooms()[0]).toMatchObject({
      address: `https://${room.address}/`,
      roomName: 'Design team',
      fingerprint: hosted.value.fingerprint,
    });

    const stopped = Date.now();
    await hana.session.leave();
    await expect.poll(() => ben.nearby(), { timeout: 1_500, interval: 20 }).toEqual([]);
    expect(Date.now() - stopped).toBeLessThan(1_500);
  });
});
