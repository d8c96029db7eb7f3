/**
 * The settings screen in the shell: the BUILT main process on the recorded Electron stand-in
 * (shell-standin/hosting-driver.ts), its settings commands called through the IPC bridge as the
 * window calls them. What Electron was asked (nativeTheme, login items, the folder picker) is
 * recorded; what reached the disk (settings.json, the Linux autostart entry) is read back.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTING_SECRETS } from './shell-standin/report.ts';
import { OUT, type Run, runHostingScenario } from './shell-standin/run-hosting.ts';

const TIMEOUT_MS = 45_000;
const userDataDirs: string[] = [];
let settings: Run;
let loginHost: Run;

beforeAll(async () => {
  if (!existsSync(join(OUT, 'main', 'index.js')))
    throw new Error('Run `npx electron-vite build` first (`npm test` does).');
  [settings, loginHost] = await Promise.all([
    runHostingScenario('settings', userDataDirs),
    runHostingScenario('login-host', userDataDirs, (userData) => {
      mkdirSync(userData, { recursive: true });
      writeFileSync(
        join(userData, 'settings.json'),
        JSON.stringify({
          displayName: HOSTING_SECRETS.hostName,
          theme: 'dark',
          startAtLogin: true,
          hostAtLogin: true,
          lastHosted: { roomName: HOSTING_SECRETS.roomName, port: 0, code: HOSTING_SECRETS.code },
        }),
      );
    }),
  ]);
}, TIMEOUT_MS);

afterAll(() => {
  for (const dir of userDataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const step = <T = unknown>(run: Run, name: string): T => run.report.steps[name] as T;
const saved = (run: Run, name: string): unknown => (step<{ value?: unknown }>(run, name) as { value?: unknown }).value;

describe('the settings screen, in the built shell', () => {
  it('the scenarios ran without an error', () => {
    expect(settings.report.errors).toEqual([]);
    expect(loginHost.report.errors).toEqual([]);
  });

  it('a first start has the defaults: system colours, not started at login, the system’s Downloads, ask on close', () => {
    expect(step(settings, 'initial')).toEqual({
      ok: true,
      value: {
        displayName: '',
        notifyDirect: true,
        notifyMentions: true,
        theme: 'system',
        startAtLogin: false,
        hostAtLogin: false,
        downloadsFolder: null,
        closeWhileHosting: 'ask',
      },
    });
    // Set before the window was made, so the first paint already has the chosen colours.
    expect(step(settings, 'themeAtWindow')).toBe('system');
  });

  it('choosing dark sets Electron’s theme at once and is saved', () => {
    expect(saved(settings, 'dark')).toMatchObject({ theme: 'dark' });
    expect(step(settings, 'themeSources')).toEqual(['system', 'dark']);
    expect(settings.settings['theme']).toBe('dark');
  });

  it('hosting at login cannot be on without starting at login', () => {
    expect(saved(settings, 'hostAtLoginAlone')).toMatchObject({ startAtLogin: false, hostAtLogin: false });
    expect(step(settings, 'autostartBefore')).toBeNull();
  });

  it('start at login writes a login item that hosts the last room; turning it off removes it', () => {
    expect(saved(settings, 'login')).toMatchObject({ startAtLogin: true, hostAtLogin: true });
    const entry = step<string>(settings, 'autostartOn');
    expect(entry).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Beacon\n/);
    expect(entry).toMatch(/^Exec=\S+ --host-last-room$/m);
    // Linux has no Electron login items: the XDG entry is the whole of it.
    expect(step(settings, 'loginItemCalls')).toBe(0);
    expect(saved(settings, 'off')).toMatchObject({ startAtLogin: false, hostAtLogin: false });
    expect(step(settings, 'autostartOff')).toBeNull();
    expect(settings.settings).toMatchObject({ startAtLogin: false, hostAtLogin: false });
  });

  it('the folder picker sets where downloads go; cancelled, relative or missing folders change nothing', () => {
    const folder = join(settings.userData, 'Shared downloads');
    expect(saved(settings, 'chosen')).toMatchObject({ downloadsFolder: folder });
    expect(saved(settings, 'cancelled')).toMatchObject({ downloadsFolder: folder });
    for (const refused of ['relative', 'missing'])
      expect(step(settings, refused)).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT' } });
    expect(settings.settings['downloadsFolder']).toBe(folder);
    const dialogs = step<{ withWindow: boolean; options: { properties: string[] } }[]>(settings, 'openDialogs');
    expect(dialogs).toHaveLength(4);
    expect(dialogs[0]).toMatchObject({
      withWindow: true,
      options: { properties: ['openDirectory', 'createDirectory'] },
    });
  });

  it('the page cannot name a folder itself: only the picker in main can', () => {
    expect(step(settings, 'pathFromPage')).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT' } });
  });

  it('a name a room would refuse is refused with the reason; a good one is what joining and hosting fill in', () => {
    expect(step(settings, 'badName')).toEqual({
      ok: false,
      error: {
        code: 'BEACON_ERR_INVALID_INPUT',
        message: '“You” is how the app shows your own name; pick another name.',
      },
    });
    expect(saved(settings, 'name')).toMatchObject({ displayName: 'Ann Lee' });
    expect(step(settings, 'stateAfterName')).toMatchObject({ displayName: 'Ann Lee' });
  });

  it('notification choices made elsewhere (setPreferences) are the ones the settings screen shows', () => {
    expect(saved(settings, 'afterPreferences')).toMatchObject({ notifyDirect: false, notifyMentions: true });
  });

  it('the close-while-hosting answer can be changed here, and is the one the close button reads', () => {
    expect(saved(settings, 'close')).toMatchObject({ closeWhileHosting: 'keep' });
    expect(settings.settings['closeWhileHosting']).toBe('keep');
  });
});

describe('started at login with “host the last room”', () => {
  it('hosts the room again with its name and code, in the tray, the window never shown', () => {
    expect(step(loginHost, 'loginHost')).toEqual({
      hostInfo: { roomName: HOSTING_SECRETS.roomName, code: HOSTING_SECRETS.code },
      trays: 1,
      visible: false,
      shown: false,
      guestJoined: true,
      themeAtWindow: 'dark',
    });
    expect(loginHost.log).toMatch(/Started at login: hosting the last room again/);
  });
});
