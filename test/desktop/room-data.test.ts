/**
 * What the desktop app keeps on disk: one history folder per hosted room, and
 * the settings file. Real folders, real SQLite through HistoryStore.
 */
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { roomFolder } from '../../src/host/room-folder.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

const sessions: DesktopChat[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.shutdown();
  await cleanup();
});

const mode = (path: string) => statSync(path).mode & 0o777;
const posixOnly = it.skipIf(process.platform === 'win32');

/** Opens the history `roomFolder` picks for `roomName` and hands it to `use`. */
function withHistory<T>(roomsDir: string, roomName: string, use: (store: HistoryStore) => T): T {
  const store = HistoryStore.open(roomFolder(roomsDir, roomName));
  try {
    return use(store);
  } finally {
    store.close();
  }
}

const say = (store: HistoryStore, text: string) =>
  store.append({ sender: 'm_a', recipient: null, text, ts: 1, clientId: text });
const texts = (store: HistoryStore) => store.page('m_a', 'room', {}, 100).messages.map((m) => m.text);

/** A room's history as a version before per-name folders left it: in the lossy slug folder. */
function oldVersionRoom(roomsDir: string, folder: string, roomName: string, text: string): string {
  const dir = join(roomsDir, folder);
  const store = HistoryStore.open(dir);
  store.setSetting('name', roomName);
  say(store, text);
  store.close();
  return dir;
}

describe('room history folders', () => {
  it('two rooms whose names differ only in case or punctuation keep separate histories', () => {
    const rooms = join(tempDir(), 'rooms');
    withHistory(rooms, 'Team room', (store) => say(store, 'for the team room'));
    withHistory(rooms, 'TEAM-ROOM!', (store) => expect(texts(store)).toEqual([]));
    withHistory(rooms, 'Team room', (store) => expect(texts(store)).toEqual(['for the team room']));
    expect(roomFolder(rooms, 'Team room')).toMatch(/[/\\]team-room-[0-9a-f]{12}$/);
    expect(new Set(readdirSync(rooms)).size).toBe(2);
  });

  it('rooms named in Japanese do not share a history', async () => {
    const dir = tempDir();
    const events: ChatEvent[] = [];
    const session = new DesktopChat({
      settings: new SettingsFile(join(dir, 'settings.json')),
      roomsDir: join(dir, 'rooms'),
      emit: (event) => events.push(event),
      hostBind: '127.0.0.1',
    });
    sessions.push(session);
    const welcome = async () => {
      await expect.poll(() => events.some((e) => e.type === 'welcome'), { timeout: 10_000 }).toBe(true);
      return events.find((e) => e.type === 'welcome') as Extract<ChatEvent, { type: 'welcome' }>;
    };

    expect((await session.host({ roomName: '営業チーム', name: 'Hana', port: 0, code: '' })).ok).toBe(true);
    await welcome();
    await session.send({ conversation: 'room', text: '営業の数字' });
    await expect
      .poll(() => events.some((e) => e.type === 'messageStatus' && e.status === 'sent'), { timeout: 10_000 })
      .toBe(true);
    await session.leave();
    events.length = 0;

    expect((await session.host({ roomName: '開発チーム', name: 'Hana', port: 0, code: '' })).ok).toBe(true);
    expect((await welcome()).history).toEqual([]);
    // Beside the rooms' folders: the app's one TLS key for every room it hosts.
    expect(readdirSync(join(dir, 'rooms')).sort()).toEqual([
      'host-identity',
      expect.stringMatching(/^営業チーム-[0-9a-f]{12}$/),
      expect.stringMatching(/^開発チーム-[0-9a-f]{12}$/),
    ]);
  });

  it('a room hosted by an older version keeps its history', () => {
    const rooms = join(tempDir(), 'rooms');
    const old = oldVersionRoom(rooms, 'team-room', 'Team room', 'from last week');
    withHistory(rooms, 'Team room', (store) => expect(texts(store)).toEqual(['from last week']));
    expect(existsSync(old)).toBe(false);
  });

  it('an old folder of another room with the same slug is left alone', () => {
    const rooms = join(tempDir(), 'rooms');
    const old = oldVersionRoom(rooms, 'team-room', 'TEAM ROOM', 'not for the other room');
    withHistory(rooms, 'Team room', (store) => expect(texts(store)).toEqual([]));
    const untouched = HistoryStore.open(old);
    expect(texts(untouched)).toEqual(['not for the other room']);
    untouched.close();
  });

  posixOnly('room folders are readable only by their owner', () => {
    const rooms = join(tempDir(), 'rooms');
    const folder = roomFolder(rooms, 'Team room');
    expect(mode(rooms)).toBe(0o700);
    expect(mode(folder)).toBe(0o700);
  });
});

describe('settings file', () => {
  posixOnly('the settings file is readable only by its owner', () => {
    const folder = join(tempDir(), 'Beacon');
    const path = join(folder, 'settings.json');
    new SettingsFile(path).update({ displayName: 'Hana' });
    expect(mode(folder)).toBe(0o700);
    expect(mode(path)).toBe(0o600);

    writeFileSync(`${path}.tmp`, 'left by a crash', { mode: 0o644 });
    new SettingsFile(path).update({ displayName: 'Hana' });
    expect(mode(path)).toBe(0o600);

    chmodSync(path, 0o644);
    const reloaded = new SettingsFile(path);
    expect(mode(path)).toBe(0o600);
    expect(reloaded.value.displayName).toBe('Hana');
  });
});
