/**
 * The v1.6 member commands across the IPC bridge (no Electron: only ipcMain's registration is a
 * stand-in): a page hosting a large room pages and watches its members, and a hostile page's
 * payloads are refused by the bridge before they reach DesktopChat or the host.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_PAGE_URL } from '../../src/main/app-protocol.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { type IpcMainLike, registerIpc, type SenderFrame } from '../../src/main/ipc-bridge.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import type { ChatEvent, HostInfo, MembersAnswer, Result } from '../../src/shared/chat-api.ts';
import { cleanup, joined, tempDir } from '../helpers/room.ts';

type Handler = (event: { senderFrame: SenderFrame | null }, payload: unknown) => unknown;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler) {
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  invoke<T>(command: string, payload?: unknown): Promise<Result<T>> {
    const handler = this.handlers.get(`beacon:${command}`)!;
    return Promise.resolve(handler({ senderFrame: { url: APP_PAGE_URL, parent: null } }, payload)) as Promise<
      Result<T>
    >;
  }
}

const apps: DesktopChat[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.shutdown();
  await cleanup();
});

async function hostingApp() {
  const dir = tempDir();
  const events: ChatEvent[] = [];
  const session = new DesktopChat({
    settings: new SettingsFile(join(dir, 'settings.json')),
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    discovery: false,
    hostLimits: { fullPresenceMembers: 3, welcomeMembers: 2, hellosPerSecond: 1_000, helloBurst: 1_000 },
  });
  apps.push(session);
  const ipc = new FakeIpcMain();
  registerIpc(ipc, session, APP_PAGE_URL);
  const hosted = await ipc.invoke<HostInfo>('host', { roomName: 'Big', name: 'Hana', port: 0, code: '' });
  if (!hosted.ok) throw new Error(hosted.error.message);
  return { ipc, events, port: hosted.value.port, session };
}

describe('the member commands over IPC', { timeout: 30_000 }, () => {
  it('a page of the room and a watch go through the bridge', async () => {
    const { ipc, port, session } = await hostingApp();
    const fingerprint = session.hosting!.fingerprint!;
    const pin = { pin: { fingerprint, trust: 'invite' as const } };
    const address = `wss://127.0.0.1:${port}/`;
    const others = [];
    for (const name of ['Bob', 'Ann', 'Cleo', 'Dan'])
      others.push(await joined(port, name, { ...pin, url: address, code: '' }));

    const page = await ipc.invoke<MembersAnswer>('members', { query: 'an', limit: 10 });
    expect(page.ok && page.value.members.map((member) => member.name)).toEqual(['Ann', 'Dan', 'Hana']);
    const watched = await ipc.invoke<MembersAnswer>('watchMembers', { ids: [others[0]!.me!.id] });
    expect(watched.ok && watched.value.members.map((member) => member.name)).toEqual(['Bob']);
  });

  it('a hostile page is refused with a clear error before anything is asked', async () => {
    const { ipc } = await hostingApp();
    const id = (i: number): string => `m_${String(i).padStart(22, '0')}`;
    const refused: [string, unknown, RegExp][] = [
      ['watchMembers', { ids: Array.from({ length: 10_000 }, (_, i) => id(i)) }, /^ids: .*200.*10000/],
      ['watchMembers', { ids: ['m_'.repeat(5_000)] }, /./],
      ['watchMembers', { ids: [''] }, /./],
      ['watchMembers', { ids: 'm_0000000000000000000000' }, /./],
      ['watchMembers', null, /./],
      ['members', { query: 'x'.repeat(100_000) }, /^query: .*40/],
      ['members', { offset: -1 }, /^offset: .*0.*-1/],
      ['members', { offset: 1.5 }, /./],
      ['members', { limit: 0 }, /^limit: .*1.*0/],
      ['members', { limit: 201 }, /^limit: .*200.*201/],
      ['members', { offset: 2 ** 53 }, /./],
      ['members', { query: { toString: 'ana' } }, /./],
      ['members', 'everyone', /./],
    ];
    for (const [command, payload, message] of refused) {
      const answer = await ipc.invoke(command, payload);
      expect(answer.ok, `${command} ${JSON.stringify(payload)?.slice(0, 60)}`).toBe(false);
      if (answer.ok) continue;
      expect(answer.error.code).toBe('BEACON_ERR_INVALID_INPUT');
      expect(answer.error.message).toMatch(message);
    }
    // The bridge still answers a well-formed request afterwards.
    const page = await ipc.invoke<MembersAnswer>('members', {});
    expect(page.ok && page.value.total).toBe(1);
  });
});
