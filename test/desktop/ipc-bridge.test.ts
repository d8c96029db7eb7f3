/**
 * The desktop app's main side, without Electron: the IPC bridge and
 * DesktopChat against real hosts on loopback. Only ipcMain's registration
 * and webContents.send are stand-ins; everything behind them is real.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventSender,
  type IpcMainLike,
  isTrustedSender,
  registerIpc,
  type SenderFrame,
} from '../../src/main/ipc-bridge.ts';
import { CERT_FILE, KEY_FILE } from '../../src/host/tls-identity.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import { APP_PAGE_URL } from '../../src/main/app-protocol.ts';
import type { ChatEvent, Result } from '../../src/shared/chat-api.ts';
import { cleanup, startRoom, tempDir } from '../helpers/room.ts';

const RENDERER = APP_PAGE_URL;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: { senderFrame: SenderFrame | null }, payload: unknown) => unknown>();
  handle(channel: string, listener: (event: { senderFrame: SenderFrame | null }, payload: unknown) => unknown) {
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  invoke<T>(command: string, payload?: unknown, url: string = RENDERER): Promise<Result<T>> {
    return Promise.resolve(
      this.handlers.get(`beacon:${command}`)!({ senderFrame: { url, parent: null } }, payload),
    ) as Promise<Result<T>>;
  }
}

/** One desktop app: settings, session, IPC bridge, and the events its window would receive. */
function desktopApp(dir = tempDir()) {
  const events: ChatEvent[] = [];
  const unread: number[] = [];
  const contents = { isDestroyed: () => false, send: (_channel: string, event: ChatEvent) => events.push(event) };
  const settings = new SettingsFile(join(dir, 'settings.json'));
  const session = new DesktopChat({
    settings,
    roomsDir: join(dir, 'rooms'),
    emit: eventSender(() => contents),
    hostBind: '127.0.0.1',
    onUnread: (total) => unread.push(total),
  });
  const ipc = new FakeIpcMain();
  registerIpc(ipc, session, RENDERER);
  apps.push(session);
  const waitFor = async <T extends ChatEvent['type']>(
    type: T,
    predicate: (e: Extract<ChatEvent, { type: T }>) => boolean = () => true,
  ) => {
    await expect
      .poll(() => events.some((e) => e.type === type && predicate(e as Extract<ChatEvent, { type: T }>)), {
        timeout: 10_000,
      })
      .toBe(true);
    return events.find((e) => e.type === type && predicate(e as Extract<ChatEvent, { type: T }>)) as Extract<
      ChatEvent,
      { type: T }
    >;
  };
  return { ipc, session, events, settings, unread, dir, waitFor };
}

const apps: DesktopChat[] = [];
afterEach(async () => {
  for (const session of apps.splice(0)) await session.shutdown();
  await cleanup();
});

describe('hosting and joining from the desktop app', () => {
  it('hosts a room, a colleague joins by address with the code, and they chat both ways', async () => {
    const host = desktopApp();
    const hosted = await host.ipc.invoke<{ addresses: string[]; port: number; code: string }>('host', {
      roomName: 'Design team',
      name: 'Hana',
      port: 0,
      code: '246810',
    });
    expect(hosted.ok).toBe(true);
    if (!hosted.ok) return;
    expect(hosted.value.addresses).toEqual([`wss://127.0.0.1:${hosted.value.port}`]);
    expect(hosted.value.code).toBe('246810');

    const guest = desktopApp();
    const joinedResult = await guest.ipc.invoke('join', {
      address: `127.0.0.1:${hosted.value.port}`,
      name: 'Gus',
      code: '246810',
    });
    expect(joinedResult).toEqual({ ok: true, value: null });
    const welcome = await guest.waitFor('welcome');
    expect(welcome.room.name).toBe('Design team');
    expect(welcome.room.members.map((m) => m.name).sort()).toEqual(['Gus', 'Hana']);

    const sent = await guest.ipc.invoke<{ clientId: string }>('send', { conversation: 'room', text: 'Hi Hana' });
    const pending = await guest.waitFor('outgoing');
    expect(pending.message).toMatchObject({ text: 'Hi Hana', status: 'pending' });
    expect(sent).toEqual({ ok: true, value: { clientId: pending.message.clientId } });
    await guest.waitFor('messageStatus', (e) => e.status === 'sent');
    await host.waitFor('messages', (e) => e.messages.some((m) => m.text === 'Hi Hana'));

    const hana = welcome.room.members.find((m) => m.name === 'Hana')!;
    await guest.ipc.invoke('send', { conversation: hana.id, text: 'just for you' });
    const direct = await host.waitFor('messages', (e) => e.messages.some((m) => m.text === 'just for you'));
    expect(direct.messages.find((m) => m.text === 'just for you')!.to).toBe(hana.id);
    await host.waitFor('hostInfo', (e) => e.info !== null);
  });

  it('hosting the same room again makes you the same person in it, with your earlier messages', async () => {
    const host = desktopApp();
    const first = await host.ipc.invoke<{ port: number }>('host', {
      roomName: 'Standup',
      name: 'Hana',
      port: 0,
      code: '',
    });
    expect(first.ok).toBe(true);
    const firstWelcome = await host.waitFor('welcome');
    await host.ipc.invoke('send', { conversation: 'room', text: 'notes for tomorrow' });
    await host.waitFor('messageStatus', (e) => e.status === 'sent');
    await host.ipc.invoke('leave');
    host.events.length = 0;
    await host.ipc.invoke('host', { roomName: 'Standup', name: 'Hana', port: 0, code: '' });
    const again = await host.waitFor('welcome');
    expect(again.room.you.id).toBe(firstWelcome.room.you.id);
    expect(again.history.map((m) => [m.from, m.text])).toEqual([[firstWelcome.room.you.id, 'notes for tomorrow']]);
  });

  it('a port already in use is reported in words, with the port', async () => {
    const taken = await startRoom();
    const host = desktopApp();
    const result = await host.ipc.invoke('host', { roomName: 'R', name: 'H', port: taken.port, code: '1' });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'BEACON_ERR_PORT_IN_USE',
        message: `That port is already in use by another program. (port ${taken.port})`,
      },
    });
  });

  it('joining an address with nothing there, or a malformed one, says so', async () => {
    const guest = desktopApp();
    expect(await guest.ipc.invoke('join', { address: 'not an address', name: 'G', code: '' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_BAD_ADDRESS' },
    });
    const room = await startRoom();
    const port = room.port;
    await room.stop();
    expect(await guest.ipc.invoke('join', { address: `127.0.0.1:${port}`, name: 'G', code: '' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_REFUSED', message: 'Nothing is listening at that address. Is the room running?' },
    });
  });

  it('stopping hosting tells the members the host stopped', async () => {
    const host = desktopApp();
    const hosted = await host.ipc.invoke<{ port: number }>('host', { roomName: 'R', name: 'H', port: 0, code: '' });
    if (!hosted.ok) throw new Error('host failed');
    const guest = desktopApp();
    await guest.ipc.invoke('join', { address: `127.0.0.1:${hosted.value.port}`, name: 'G', code: '' });
    await host.ipc.invoke('leave');
    const lost = await guest.waitFor(
      'connection',
      (e) => e.state.kind === 'reconnecting' || e.state.kind === 'offline',
    );
    expect(lost.state).toMatchObject({ reason: 'BEACON_ERR_HOST_STOPPED' });
    expect(host.events.at(-1)).toEqual({ type: 'hostInfo', info: null });
  });

  it('a recent room rejoins as the same member, and the unread total reaches the window title hook', async () => {
    const room = await startRoom({ code: '77', encrypted: true });
    const guest = desktopApp();
    const address = `127.0.0.1:${room.port}`;
    await guest.ipc.invoke('join', { address, name: 'Gus', code: '77' });
    const first = await guest.waitFor('welcome');
    await guest.ipc.invoke('leave');
    const state = await guest.ipc.invoke<{ recentRooms: unknown[] }>('getState');
    expect(state.ok && state.value.recentRooms).toEqual([
      {
        address,
        roomName: 'Test room',
        code: '77',
        name: 'Gus',
        lastJoined: expect.any(Number),
        fingerprint: room.fingerprint,
      },
    ]);
    // A restarted app reads the same settings file.
    const again = desktopApp(guest.dir);
    await again.ipc.invoke('join', { address, name: 'Gus', code: '77' });
    const second = await again.waitFor('welcome');
    expect(second.room.you.id).toBe(first.room.you.id);
    await again.ipc.invoke('reportUnread', { total: 3 });
    expect(again.unread).toEqual([3]);
  });
});

describe('notification choices', () => {
  it('are kept in the settings file across restarts', async () => {
    const app = desktopApp();
    const initial = await app.ipc.invoke<{ preferences: unknown }>('getState');
    expect(initial.ok && initial.value.preferences).toEqual({ notifyDirect: true, notifyMentions: true });
    expect(await app.ipc.invoke('setPreferences', { notifyDirect: true, notifyMentions: false })).toEqual({
      ok: true,
      value: null,
    });
    const restarted = desktopApp(app.dir);
    const state = await restarted.ipc.invoke<{ preferences: unknown }>('getState');
    expect(state.ok && state.value.preferences).toEqual({ notifyDirect: true, notifyMentions: false });
    expect(await restarted.ipc.invoke('setPreferences', { notifyDirect: 'yes' })).toMatchObject({ ok: false });
  });
});

describe('the IPC boundary', () => {
  it('refuses calls from any page but Beacon’s own', async () => {
    const app = desktopApp();
    expect(await app.ipc.invoke('getState', undefined, 'https://evil.example/')).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT' },
    });
    const fromEmbeddedFrame = await app.ipc.handlers.get('beacon:getState')!(
      { senderFrame: { url: RENDERER, parent: { url: RENDERER } } },
      undefined,
    );
    expect(fromEmbeddedFrame).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT' } });
    expect(isTrustedSender('app://beacon/index.html', RENDERER)).toBe(true);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173/')).toBe(true);
    expect(isTrustedSender(undefined, RENDERER)).toBe(false);
  });

  it.each([
    ['a file on the disk', 'file:///opt/Beacon/resources/app/out/renderer/index.html'],
    ['another file', 'file:///tmp/other.html'],
    ['another app: origin', 'app://evil/index.html'],
    ['a lookalike host', 'app://beacon.evil/index.html'],
    ['a web page', 'https://beacon/index.html'],
    ['the dev server’s address while packaged', 'http://localhost:5173/'],
  ])('refuses a call from %s, even with a file:// renderer named', async (_, url) => {
    const app = desktopApp();
    expect(await app.ipc.invoke('getSettings', undefined, url)).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT' },
    });
    expect(isTrustedSender(url, RENDERER)).toBe(false);
    // No file:// renderer is trusted at all now: not even the very file it names.
    expect(isTrustedSender(url, url.startsWith('file:') ? url : 'file:///opt/Beacon/index.html')).toBe(false);
  });

  it('refuses malformed payloads with a sentence, and the session is unharmed', async () => {
    const app = desktopApp();
    expect(await app.ipc.invoke('join', { address: 5 })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT' },
    });
    expect(await app.ipc.invoke('host', { roomName: 'R', name: '', port: 1, code: '' })).toEqual({
      ok: false,
      error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'Enter your name.' },
    });
    expect(await app.ipc.invoke('send', { conversation: 'room', text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_NOT_JOINED' },
    });
    expect(await app.ipc.invoke('getState')).toMatchObject({ ok: true });
  });
});

describe('ends that keep what a person set up (issue 10)', () => {
  it('Stop hosting remembers the room: a restarted app offers the same name, port and code again', async () => {
    const host = desktopApp();
    const hosted = await host.ipc.invoke<{ port: number }>('host', {
      roomName: 'Design team',
      name: 'Hana',
      port: 0,
      code: '13572468',
    });
    if (!hosted.ok) throw new Error('host failed');
    await host.ipc.invoke('leave');
    const left = await host.waitFor('left');
    const remembered = { roomName: 'Design team', port: hosted.value.port, code: '13572468' };
    expect(left.lastHosted).toEqual(remembered);
    const restarted = desktopApp(host.dir);
    const state = await restarted.ipc.invoke<{ lastHosted: unknown }>('getState');
    expect(state.ok && state.value.lastHosted).toEqual(remembered);
  });

  it('a host restarted with a new code: retryWithCode gets back in, and the recent room keeps the new code', async () => {
    const dataDir = tempDir();
    const first = await startRoom({ code: '1111', dataDir, encrypted: true });
    const port = first.port;
    const guest = desktopApp();
    const address = `127.0.0.1:${port}`;
    await guest.ipc.invoke('join', { address, name: 'Gus', code: '1111' });
    await guest.waitFor('welcome');
    await first.stop();
    // The same host (its key) with another code and a fresh history, so it does not know Gus's token.
    const fresh = tempDir();
    for (const file of [KEY_FILE, CERT_FILE]) copyFileSync(join(dataDir, file), join(fresh, file));
    await startRoom({ port, code: '2222', dataDir: fresh, encrypted: true });
    await guest.ipc.invoke('retryNow');
    await guest.waitFor('connection', (e) => e.state.kind === 'offline' && e.state.reason === 'BEACON_ERR_WRONG_CODE');
    expect(await guest.ipc.invoke('retryWithCode', { code: 'x'.repeat(65) })).toMatchObject({ ok: false });
    guest.events.length = 0;
    expect(await guest.ipc.invoke('retryWithCode', { code: '2222' })).toEqual({ ok: true, value: null });
    await guest.waitFor('welcome');
    await guest.ipc.invoke('leave');
    const state = await guest.ipc.invoke<{ recentRooms: { code: string }[] }>('getState');
    expect(state.ok && state.value.recentRooms[0]?.code).toBe('2222');
  });
});
