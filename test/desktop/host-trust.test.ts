/**
 * The desktop app hosting and joining encrypted rooms, as two people with
 * two apps: hosting is encrypted without asking, an invite pins the host, a
 * recent room remembers its fingerprint, and a host that changed its key is
 * stopped with both fingerprints until the person trusts the new one.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CERT_FILE, KEY_FILE } from '../../src/host/tls-identity.ts';
import { beaconLink } from '../../src/shared/address.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent, ConnectionState, HostInfo } from '../../src/shared/chat-api.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

/** One person's app: its own settings file and rooms folder, and every event it would show. */
function app() {
  const dir = tempDir();
  const events: ChatEvent[] = [];
  const settingsPath = join(dir, 'settings.json');
  const session = new DesktopChat({
    settings: new SettingsFile(settingsPath),
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    clientOptions: { backoff: { initialMs: 20, maxMs: 50, factor: 1 } },
  });
  sessions.push(session);
  const states = (): ConnectionState[] => events.flatMap((event) => (event.type === 'connection' ? [event.state] : []));
  return {
    session,
    events,
    dir,
    settingsPath,
    states,
    /** The connected state the app shows now. */
    connected: () => states().findLast((state) => state.kind === 'connected'),
  };
}

/** Where the app keeps its one TLS key for every room it hosts. */
const keyFolder = (person: ReturnType<typeof app>): string => join(person.dir, 'rooms', 'host-identity');

async function hostRoom(hana: ReturnType<typeof app>, port = 0): Promise<HostInfo> {
  const hosted = await hana.session.host({ roomName: 'Design team', name: 'Hana', port, code: '1234' });
  if (!hosted.ok) throw new Error(hosted.error.message);
  return hosted.value;
}

/** Hana's app loses its key (a new laptop, a deleted folder) and hosts the room again on the same port. */
async function hostAgainWithNewKey(hana: ReturnType<typeof app>, port: number): Promise<HostInfo> {
  await hana.session.leave();
  rmSync(join(keyFolder(hana), KEY_FILE));
  rmSync(join(keyFolder(hana), CERT_FILE));
  return hostRoom(hana, port);
}

describe('hosting from the app', () => {
  it('is encrypted without asking: wss:// and https:// addresses, a fingerprint, an invite, the key kept private', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    expect(info.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(info.addresses).toEqual([`wss://127.0.0.1:${info.port}`]);
    expect(info.webAddresses).toEqual([`https://127.0.0.1:${info.port}/`]);
    expect(info.invite).toBe(`https://127.0.0.1:${info.port}/#fp=${info.fingerprint}`);
    const folder = keyFolder(hana);
    expect(statSync(join(folder, KEY_FILE)).mode & 0o777).toBe(0o600);
    // The host's own connection is encrypted and checked like anyone's.
    expect(hana.connected()).toMatchObject({ security: { encrypted: true, fingerprint: info.fingerprint } });
  });
  it('every room hosted from one app shows the same fingerprint, so a member who trusted one is not warned about another', async () => {
    const hana = app();
    const first = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: first.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    await hana.session.leave();
    const hosted = await hana.session.host({ roomName: 'Standup', name: 'Hana', port: first.port, code: '1234' });
    if (!hosted.ok) throw new Error(hosted.error.message);
    expect(hosted.value.fingerprint).toBe(first.fingerprint);
    expect(await bob.session.join({ address: `127.0.0.1:${first.port}`, name: 'Bob', code: '1234' })).toEqual({
      ok: true,
      value: null,
    });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: first.fingerprint, trust: 'remembered' } });
  });
});

describe('joining from the app', () => {
  it('by the invite: the host matched it, and the recent room remembers the fingerprint (not inside its address)', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    const joined = await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' });
    expect(joined).toEqual({ ok: true, value: null });
    expect(bob.connected()).toMatchObject({
      security: { encrypted: true, fingerprint: info.fingerprint, trust: 'invite' },
    });
    await bob.session.leave();
    const recent = JSON.parse(readFileSync(bob.settingsPath, 'utf8')).recentRooms;
    expect(recent).toEqual([
      expect.objectContaining({ address: `https://127.0.0.1:${info.port}/`, fingerprint: info.fingerprint }),
    ]);
    const left = bob.events.findLast((event) => event.type === 'left') as Extract<ChatEvent, { type: 'left' }>;
    expect(left.recentRooms[0]).toMatchObject({ fingerprint: info.fingerprint });
  });

  it('a recent room joined again is held to the fingerprint it remembered', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    expect(await bob.session.join({ address: `https://127.0.0.1:${info.port}/`, name: 'Bob', code: '1234' })).toEqual({
      ok: true,
      value: null,
    });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'remembered' } });
  });

  it('the same host typed another way is held to the same fingerprint: a new key is refused at "127.0.0.1:port" too', async () => {
    const hana = app();
    const before = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: before.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    const after = await hostAgainWithNewKey(hana, before.port);

    for (const typed of [`127.0.0.1:${before.port}`, `wss://127.0.0.1:${before.port}`]) {
      expect(await bob.session.join({ address: typed, name: 'Bob', code: '1234' })).toMatchObject({
        ok: false,
        error: { code: 'BEACON_ERR_HOST_CHANGED' },
      });
      expect(bob.states().findLast((state) => state.kind === 'offline')).toMatchObject({
        fingerprints: { expected: before.fingerprint, presented: after.fingerprint },
      });
    }
  });

  it('a host met encrypted is never joined in clear: its address typed with ws:// still joins encrypted and checked', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    expect(await bob.session.join({ address: `ws://127.0.0.1:${info.port}`, name: 'Bob', code: '1234' })).toEqual({
      ok: true,
      value: null,
    });
    expect(bob.connected()).toMatchObject({
      security: { encrypted: true, fingerprint: info.fingerprint, trust: 'remembered' },
    });
  });

  it('an invite cannot re-pin a host already trusted: a new key with an invite carrying it still stops with both fingerprints', async () => {
    const hana = app();
    const before = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: before.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    // Someone (in the room, say) hands Bob an invite with another fingerprint; here it is the host's new key.
    const after = await hostAgainWithNewKey(hana, before.port);
    expect(await bob.session.join({ address: after.invite!, name: 'Bob', code: '1234' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_HOST_CHANGED' },
    });
    expect(bob.states().findLast((state) => state.kind === 'offline')).toMatchObject({
      fingerprints: { expected: before.fingerprint, presented: after.fingerprint },
    });
    expect(hana.session.hosting!.members().map((m) => m.name)).toEqual(['Hana']);
  });

  it('an invite with a wrong fingerprint for a host already trusted still joins the real host, held to the known one', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: info.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();
    const forged = `https://127.0.0.1:${info.port}/#fp=${'0'.repeat(32)}`;
    expect(await bob.session.join({ address: forged, name: 'Bob', code: '1234' })).toEqual({ ok: true, value: null });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'remembered' } });
  });

  it('a beacon: link pasted into the join form joins pinned, with its code, and the recent room can be joined again', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    const link = beaconLink(info, { withCode: true })!;
    expect(await bob.session.join({ address: link, name: 'Bob', code: '' })).toEqual({ ok: true, value: null });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'invite' } });
    await bob.session.leave();
    const recent = JSON.parse(readFileSync(bob.settingsPath, 'utf8')).recentRooms[0];
    expect(await bob.session.join({ address: recent.address, name: 'Bob', code: recent.code })).toEqual({
      ok: true,
      value: null,
    });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'remembered' } });
  });

  it('by a bare address with nothing known: trusted on first use, shown, and remembered', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: `127.0.0.1:${info.port}`, name: 'Bob', code: '1234' });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'first-use' } });
    await bob.session.leave();
    await bob.session.join({ address: `127.0.0.1:${info.port}`, name: 'Bob', code: '1234' });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'remembered' } });
  });

  it('a host that made a new key is stopped with both fingerprints; trusting the new one joins and is remembered', async () => {
    const hana = app();
    const before = await hostRoom(hana);
    const bob = app();
    await bob.session.join({ address: before.invite!, name: 'Bob', code: '1234' });
    await bob.session.leave();

    // Hana's room loses its key (a new laptop, a deleted folder) and is hosted again on the same port.
    const after = await hostAgainWithNewKey(hana, before.port);
    expect(after.fingerprint).not.toBe(before.fingerprint);

    const address = `https://127.0.0.1:${before.port}/`;
    const refused = await bob.session.join({ address, name: 'Bob', code: '1234' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_HOST_CHANGED' } });
    expect(bob.states().findLast((state) => state.kind === 'offline')).toMatchObject({
      reason: 'BEACON_ERR_HOST_CHANGED',
      fingerprints: { expected: before.fingerprint, presented: after.fingerprint },
    });
    expect(hana.session.hosting!.members().map((m) => m.name)).toEqual(['Hana']);

    // Bob called Hana, and she read him the new fingerprint.
    expect(await bob.session.trustHost({ fingerprint: after.fingerprint! })).toEqual({ ok: true, value: null });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: after.fingerprint, trust: 'remembered' } });
    await bob.session.leave();
    expect(JSON.parse(readFileSync(bob.settingsPath, 'utf8')).recentRooms[0].fingerprint).toBe(after.fingerprint);
    expect(await bob.session.join({ address, name: 'Bob', code: '1234' })).toEqual({ ok: true, value: null });
  });

  it('a first join by an invite the host does not match: trusting what it shows joins, held to that fingerprint', async () => {
    const hana = app();
    const info = await hostRoom(hana);
    const bob = app();
    const stale = `https://127.0.0.1:${info.port}/#fp=${'0'.repeat(32)}`;
    expect(await bob.session.join({ address: stale, name: 'Bob', code: '1234' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_HOST_CHANGED' },
    });
    expect(await bob.session.trustHost({ fingerprint: info.fingerprint! })).toEqual({ ok: true, value: null });
    expect(bob.connected()).toMatchObject({ security: { fingerprint: info.fingerprint, trust: 'remembered' } });
  });

  it('trusting a host means nothing before any join', async () => {
    const bob = app();
    const result = await bob.session.trustHost({ fingerprint: '0'.repeat(32) });
    expect(result).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT' } });
  });
});
