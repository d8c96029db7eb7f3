/**
 * The desktop app's settings file, on a real file in a temporary folder. The
 * module runs on plain Node: it is tested without Electron.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadsFolder, SettingsFile, type StoredRecentRoom } from '../../src/main/settings.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

const posixOnly = it.skipIf(process.platform === 'win32');
const modeOf = (path: string): number => statSync(path).mode & 0o777;

const DEFAULTS = {
  displayName: '',
  notifyDirect: true,
  notifyMentions: true,
  recentRooms: [],
  hostPins: {},
  theme: 'system',
  startAtLogin: false,
  hostAtLogin: false,
};

const room = (n: number, extra: Partial<StoredRecentRoom> = {}): StoredRecentRoom => ({
  address: `ws://10.0.0.${n}:4747/`,
  roomName: `Room ${n}`,
  code: `1234000${n}`,
  name: 'Ann',
  lastJoined: 1_000 + n,
  ...extra,
});

/** Settings in a fresh folder; `content` is what the file holds before the app starts, if anything. */
function settingsIn(content?: string): { path: string; dir: string } {
  const dir = tempDir();
  const path = join(dir, 'settings.json');
  if (content !== undefined) writeFileSync(path, content);
  return { path, dir };
}

describe('starting', () => {
  it('a first start has the defaults and writes nothing until something changes', () => {
    const { path } = settingsIn();
    const settings = new SettingsFile(path);
    expect(settings.value).toEqual(DEFAULTS);
    expect(existsSync(path)).toBe(false);
  });

  it('what was saved is what the next start reads', () => {
    const { path } = settingsIn();
    const first = new SettingsFile(path);
    first.update({ displayName: 'Ann', notifyMentions: false, windowBounds: { x: 1, y: 2, width: 800, height: 600 } });
    first.rememberRoom(room(1, { token: 't_secret' }));
    const second = new SettingsFile(path);
    expect(second.value).toEqual(first.value);
    expect(second.findRoom(room(1).address, 'Ann')?.token).toBe('t_secret');
  });

  it('settings an older version did not have take their defaults, and the rest is kept', () => {
    const { path } = settingsIn(JSON.stringify({ displayName: 'Ann' }));
    expect(new SettingsFile(path).value).toEqual({ ...DEFAULTS, displayName: 'Ann' });
  });
});

describe('a damaged settings file', () => {
  it.each([
    ['cut off half way', '{"displayName": "Ann", "recentRo'],
    ['not JSON at all', '\u0000\u0000\u0000'],
    ['JSON of the wrong kind', '[1, 2, 3]'],
    ['empty', ''],
  ])('(%s) does not stop the app: it starts with the defaults', (_, content) => {
    const { path } = settingsIn(content);
    expect(new SettingsFile(path).value).toEqual(DEFAULTS);
    // Reading it leaves the file as it was.
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('one wrong value costs only itself: the name and the recent rooms (with their identities) stay', () => {
    const { path } = settingsIn(
      JSON.stringify({
        displayName: 'Ann',
        notifyDirect: 'yes',
        recentRooms: [room(1, { token: 't_1' }), { address: 42 }, room(2)],
      }),
    );
    const settings = new SettingsFile(path);
    expect(settings.value).toEqual({
      ...DEFAULTS,
      displayName: 'Ann',
      recentRooms: [room(1, { token: 't_1' }), room(2)],
    });
  });

  posixOnly('is kept beside the new one, readable only by this user, when the next save replaces it', () => {
    const damaged = '{"displayName": "Ann", "recentRooms": [{"address": "ws://10.0.0.1:4747/", "tok';
    const { path, dir } = settingsIn(damaged);
    const settings = new SettingsFile(path);
    settings.update({ displayName: 'Bob' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ ...DEFAULTS, displayName: 'Bob' });
    expect(readdirSync(dir).sort()).toEqual(['settings.json', 'settings.json.damaged']);
    expect(readFileSync(`${path}.damaged`, 'utf8')).toBe(damaged);
    expect(modeOf(`${path}.damaged`)).toBe(0o600);
  });
});

describe('only this user can read the settings (they hold join codes and resume tokens)', () => {
  posixOnly('the file is written 0600, in a folder the app creates 0700', () => {
    const dir = join(tempDir(), 'Beacon', 'profile');
    const path = join(dir, 'settings.json');
    new SettingsFile(path).update({ displayName: 'Ann' });
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(dir)).toBe(0o700);
  });

  posixOnly('a file an older version left readable is made private at start, before anything is saved', () => {
    const { path } = settingsIn(JSON.stringify({ displayName: 'Ann' }));
    chmodSync(path, 0o644);
    const settings = new SettingsFile(path);
    expect(modeOf(path)).toBe(0o600);
    expect(settings.value.displayName).toBe('Ann');
  });

  posixOnly('a temporary file left readable by a crash mid-save is not reused: the saved file is 0600', () => {
    const { path, dir } = settingsIn();
    writeFileSync(`${path}.tmp`, 'half a file', { mode: 0o644 });
    chmodSync(`${path}.tmp`, 0o644);
    new SettingsFile(path).update({ displayName: 'Ann' });
    expect(readdirSync(dir)).toEqual(['settings.json']);
    expect(modeOf(path)).toBe(0o600);
  });

  it('resume tokens are written to the settings file and nowhere else, and the interface never sees them', () => {
    const { path, dir } = settingsIn();
    const settings = new SettingsFile(path);
    settings.update({ displayName: 'Ann' });
    settings.rememberRoom(room(1, { token: 't_first_secret' }));
    settings.rememberRoom(room(2, { token: 't_second_secret' }));
    settings.update({ notifyDirect: false });
    expect(readdirSync(dir)).toEqual(['settings.json']);
    const saved = readFileSync(path, 'utf8');
    expect(saved).toContain('t_first_secret');
    expect(saved).toContain('t_second_secret');
    expect(JSON.stringify(settings.recentRooms())).not.toContain('secret');
    for (const listed of settings.recentRooms())
      expect(Object.keys(listed).sort()).toEqual(['address', 'code', 'lastJoined', 'name', 'roomName']);
  });

  it('the settings module does not need Electron', () => {
    const source = readFileSync(new URL('../../src/main/settings.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from ['"]electron(\/.*)?['"]|require\(['"]electron/);
  });
});

describe('recent rooms', () => {
  it('the room joined last comes first', () => {
    const settings = new SettingsFile(settingsIn().path);
    settings.rememberRoom(room(1));
    settings.rememberRoom(room(2));
    settings.rememberRoom(room(3));
    expect(settings.recentRooms().map((r) => r.roomName)).toEqual(['Room 3', 'Room 2', 'Room 1']);
  });

  it('joining a room again moves it to the top, once, with what was used this time', () => {
    const settings = new SettingsFile(settingsIn().path);
    settings.rememberRoom(room(1, { token: 't_old' }));
    settings.rememberRoom(room(2));
    settings.rememberRoom(room(1, { code: '99999999', lastJoined: 5_000, token: 't_new' }));
    expect(settings.recentRooms().map((r) => [r.roomName, r.code, r.lastJoined])).toEqual([
      ['Room 1', '99999999', 5_000],
      ['Room 2', '12340002', 1_002],
    ]);
    expect(settings.findRoom(room(1).address, 'Ann')?.token).toBe('t_new');
  });

  it('the same room under another name is another entry, with its own identity', () => {
    const settings = new SettingsFile(settingsIn().path);
    settings.rememberRoom(room(1, { name: 'Ann', token: 't_ann' }));
    settings.rememberRoom(room(1, { name: 'Ann at home', token: 't_home' }));
    expect(settings.recentRooms().map((r) => r.name)).toEqual(['Ann at home', 'Ann']);
    expect(settings.findRoom(room(1).address, 'Ann')?.token).toBe('t_ann');
    expect(settings.findRoom(room(1).address, 'Ann at home')?.token).toBe('t_home');
    expect(settings.findRoom(room(1).address, 'Bob')).toBeUndefined();
  });

  it('a room remembers its host’s fingerprint; a damaged one is dropped alone, the room and its identity kept', () => {
    const fingerprint = '3f9a21c477b05e129c0daa431b7f6e20';
    const { path } = settingsIn(
      JSON.stringify({
        recentRooms: [
          room(1, { token: 't_1', fingerprint } as never),
          room(2, { token: 't_2', fingerprint: 'EVIL' } as never),
        ],
      }),
    );
    const settings = new SettingsFile(path);
    expect(settings.pinFor(room(1).address)).toBe(fingerprint);
    expect(settings.recentRooms()[0]).toMatchObject({ fingerprint });
    expect(settings.pinFor(room(2).address)).toBeUndefined();
    expect(settings.findRoom(room(2).address, 'Ann')).toMatchObject({ token: 't_2' });
    expect(settings.recentRooms()[1]).not.toHaveProperty('fingerprint');
  });

  it('trusting a host’s new fingerprint replaces it for every name at that address', () => {
    const settings = new SettingsFile(settingsIn().path);
    const old = '3f9a21c477b05e129c0daa431b7f6e20' as never;
    settings.rememberRoom(room(1, { name: 'Ann', fingerprint: old }));
    settings.rememberRoom(room(1, { name: 'Ann at home', fingerprint: old }));
    settings.rememberRoom(room(2, { fingerprint: old }));
    const renewed = '00112233445566778899aabbccddeeff' as never;
    settings.trustHost(room(1).address, renewed);
    expect(settings.recentRooms().map((r) => [r.address, r.name, r.fingerprint])).toEqual([
      [room(2).address, 'Ann', old],
      [room(1).address, 'Ann at home', renewed],
      [room(1).address, 'Ann', renewed],
    ]);
  });

  it('a host’s fingerprint outlives its room’s place in the recent list: ten rooms later it is still expected', () => {
    const { path } = settingsIn();
    const settings = new SettingsFile(path);
    const pinned = '3f9a21c477b05e129c0daa431b7f6e20' as never;
    settings.rememberRoom(room(1, { fingerprint: pinned }));
    for (let n = 2; n <= 11; n++) settings.rememberRoom(room(n));
    expect(settings.findRoom(room(1).address, 'Ann')).toBeUndefined();
    expect(settings.pinFor('10.0.0.1:4747')).toBe(pinned);
    expect(new SettingsFile(path).pinFor('wss://10.0.0.1:4747')).toBe(pinned);
  });

  it('a damaged pin is dropped alone; the other pins stay', () => {
    const good = '3f9a21c477b05e129c0daa431b7f6e20';
    const { path } = settingsIn(
      JSON.stringify({ hostPins: { '10.0.0.1:4747': good, '10.0.0.2:4747': 'EVIL', '10.0.0.3:4747': 7 } }),
    );
    const settings = new SettingsFile(path);
    expect(settings.pinFor('10.0.0.1:4747')).toBe(good);
    expect(settings.pinFor('10.0.0.2:4747')).toBeUndefined();
    expect(settings.value.hostPins).toEqual({ '10.0.0.1:4747': good });
  });

  it('at most eight are kept: the one joined longest ago goes first', () => {
    const { path } = settingsIn();
    const settings = new SettingsFile(path);
    for (let n = 1; n <= 10; n++) settings.rememberRoom(room(n, { token: `t_${n}` }));
    const expected = [10, 9, 8, 7, 6, 5, 4, 3].map((n) => `Room ${n}`);
    expect(settings.recentRooms().map((r) => r.roomName)).toEqual(expected);
    expect(settings.findRoom(room(2).address, 'Ann')).toBeUndefined();
    // Forgotten from the file too, token and all.
    expect(new SettingsFile(path).recentRooms().map((r) => r.roomName)).toEqual(expected);
    expect(readFileSync(path, 'utf8')).not.toMatch(/"t_[12]"/);
  });
});

describe('the settings screen’s values', () => {
  it('are saved and read back: theme, start at login, host at login, downloads folder, the close choice', () => {
    const { path, dir } = settingsIn();
    const folder = join(dir, 'Shared');
    mkdirSync(folder);
    new SettingsFile(path).update({
      theme: 'dark',
      startAtLogin: true,
      hostAtLogin: true,
      downloadsFolder: folder,
      closeWhileHosting: 'stop',
    });
    expect(new SettingsFile(path).value).toMatchObject({
      theme: 'dark',
      startAtLogin: true,
      hostAtLogin: true,
      downloadsFolder: folder,
      closeWhileHosting: 'stop',
    });
  });

  it.each([
    ['a theme that does not exist', { theme: 'sepia' }],
    ['start at login as text', { startAtLogin: 'yes' }],
    ['host at login as a number', { hostAtLogin: 1 }],
    ['a relative downloads folder', { downloadsFolder: 'Downloads' }],
    ['a downloads folder that is a number', { downloadsFolder: 42 }],
    ['a close choice that does not exist', { closeWhileHosting: 'explode' }],
  ])('%s falls back alone: the name, the other choices and the recent rooms stay', (_, damaged) => {
    const { path, dir } = settingsIn();
    const folder = join(dir, 'Shared');
    mkdirSync(folder);
    const good = {
      displayName: 'Ann',
      notifyMentions: false,
      theme: 'light',
      startAtLogin: true,
      hostAtLogin: true,
      downloadsFolder: folder,
      closeWhileHosting: 'keep',
      recentRooms: [room(1, { token: 't_1' })],
    };
    writeFileSync(path, JSON.stringify({ ...good, ...damaged }));
    const expected: Record<string, unknown> = { ...DEFAULTS, ...good };
    const [key] = Object.keys(damaged);
    expected[key!] = (DEFAULTS as Record<string, unknown>)[key!];
    expect(new SettingsFile(path).value).toEqual(expected);
  });

  it('a downloads folder that has gone since (a drive unplugged) falls back to the system’s Downloads', () => {
    const { path, dir } = settingsIn();
    const folder = join(dir, 'USB stick');
    mkdirSync(folder);
    const settings = new SettingsFile(path);
    settings.update({ downloadsFolder: folder });
    expect(downloadsFolder(settings.value.downloadsFolder, '/home/ann/Downloads')).toBe(folder);
    rmSync(folder, { recursive: true });
    // While running: the next download goes to Downloads.
    expect(downloadsFolder(settings.value.downloadsFolder, '/home/ann/Downloads')).toBe('/home/ann/Downloads');
    // At the next start: forgotten.
    expect(new SettingsFile(path).value.downloadsFolder).toBeUndefined();
  });

  it('a file where a folder should be is not a downloads folder', () => {
    const { path, dir } = settingsIn();
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'x');
    expect(downloadsFolder(file, '/home/ann/Downloads')).toBe('/home/ann/Downloads');
    writeFileSync(path, JSON.stringify({ downloadsFolder: file }));
    expect(new SettingsFile(path).value.downloadsFolder).toBeUndefined();
  });

  posixOnly('saving any of them keeps the file readable only by this user', () => {
    const { path } = settingsIn();
    const settings = new SettingsFile(path);
    settings.update({ theme: 'dark' });
    expect(modeOf(path)).toBe(0o600);
    chmodSync(path, 0o644);
    settings.update({ startAtLogin: true });
    expect(modeOf(path)).toBe(0o600);
  });
});
