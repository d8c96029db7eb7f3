/**
 * Start at login: the login item the settings ask for, written for real on Linux (an XDG autostart
 * entry in a temporary config folder) and handed to Electron's setLoginItemSettings elsewhere
 * (recorded), and the decision to host the last room as Beacon starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyLoginItem,
  autostartEntry,
  autostartFolder,
  HOST_AT_LOGIN_FLAG,
  type LoginItem,
  loginItemFor,
  roomToHostAtLaunch,
} from '../../src/main/login-item.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

function linux(executable = '/opt/Beacon/beacon') {
  const dir = join(tempDir(), 'autostart');
  const calls: LoginItem[] = [];
  const target = {
    platform: 'linux' as const,
    setLoginItemSettings: (i: LoginItem) => calls.push(i),
    autostartDir: dir,
    executable,
  };
  return { dir, file: join(dir, 'beacon.desktop'), calls, target };
}

describe('the login item', () => {
  it('is off by default and carries the hosting flag only with both settings on', () => {
    expect(loginItemFor({ startAtLogin: false, hostAtLogin: false })).toEqual({ openAtLogin: false, args: [] });
    expect(loginItemFor({ startAtLogin: true, hostAtLogin: false })).toEqual({ openAtLogin: true, args: [] });
    expect(loginItemFor({ startAtLogin: false, hostAtLogin: true })).toEqual({ openAtLogin: false, args: [] });
    expect(loginItemFor({ startAtLogin: true, hostAtLogin: true })).toEqual({
      openAtLogin: true,
      args: [HOST_AT_LOGIN_FLAG],
    });
  });

  it('on Windows and macOS goes to Electron’s login items, on and off', () => {
    for (const platform of ['win32', 'darwin'] as const) {
      const calls: LoginItem[] = [];
      const target = {
        platform,
        setLoginItemSettings: (i: LoginItem) => calls.push(i),
        autostartDir: '/x',
        executable: '/y',
      };
      applyLoginItem(loginItemFor({ startAtLogin: true, hostAtLogin: true }), target);
      applyLoginItem(loginItemFor({ startAtLogin: false, hostAtLogin: false }), target);
      expect(calls).toEqual([
        { openAtLogin: true, args: [HOST_AT_LOGIN_FLAG] },
        { openAtLogin: false, args: [] },
      ]);
    }
  });

  it('on Linux is an autostart entry that starts Beacon, rewritten when the choice changes, removed when off', () => {
    const { file, calls, target } = linux();
    applyLoginItem(loginItemFor({ startAtLogin: true, hostAtLogin: false }), target);
    expect(readFileSync(file, 'utf8')).toBe(
      '[Desktop Entry]\nType=Application\nName=Beacon\nExec=/opt/Beacon/beacon\nX-GNOME-Autostart-enabled=true\n',
    );
    applyLoginItem(loginItemFor({ startAtLogin: true, hostAtLogin: true }), target);
    expect(readFileSync(file, 'utf8')).toContain('\nExec=/opt/Beacon/beacon --host-last-room\n');
    applyLoginItem(loginItemFor({ startAtLogin: false, hostAtLogin: false }), target);
    expect(existsSync(file)).toBe(false);
    // Off when it was never on: nothing to remove, nothing thrown.
    applyLoginItem(loginItemFor({ startAtLogin: false, hostAtLogin: false }), target);
    expect(calls).toEqual([]);
  });

  it('a path with spaces, quotes, dollars, backslashes or % is quoted as the Desktop Entry spec says', () => {
    expect(autostartEntry('/home/ann/My Apps/Beacon.AppImage', [])).toContain(
      'Exec="/home/ann/My Apps/Beacon.AppImage"\n',
    );
    expect(autostartEntry('/opt/a "b" $HOME `x`/beacon', [])).toContain(
      'Exec="/opt/a \\\\"b\\\\" \\\\$HOME \\\\`x\\\\`/beacon"\n',
    );
    expect(autostartEntry('/opt/back\\slash dir/beacon', [])).toContain('Exec="/opt/back\\\\\\\\slash dir/beacon"\n');
    expect(autostartEntry('/opt/100%/beacon', [])).toContain('Exec=/opt/100%%/beacon\n');
  });

  it('a path with a line break is refused rather than written as a second key', () => {
    expect(() => autostartEntry('/opt/x\nExec=/bin/evil', [])).toThrow(/line break/);
  });

  it('goes in $XDG_CONFIG_HOME/autostart, or ~/.config/autostart when that is unset or relative', () => {
    expect(autostartFolder({ XDG_CONFIG_HOME: '/cfg' }, '/home/ann')).toBe('/cfg/autostart');
    expect(autostartFolder({}, '/home/ann')).toBe('/home/ann/.config/autostart');
    expect(autostartFolder({ XDG_CONFIG_HOME: 'cfg' }, '/home/ann')).toBe('/home/ann/.config/autostart');
  });
});

describe('hosting the last room at login', () => {
  const lastHosted = { roomName: 'Design', port: 4747, code: '12345678' };
  const wanted = { startAtLogin: true, hostAtLogin: true, lastHosted, displayName: 'Ann' };

  it('hosts it when the login item started Beacon and the person still wants it', () => {
    expect(
      roomToHostAtLaunch({ argv: ['beacon', HOST_AT_LOGIN_FLAG], wasOpenedAtLogin: false, settings: wanted }),
    ).toBe(lastHosted);
    // macOS passes no arguments to a login item.
    expect(roomToHostAtLaunch({ argv: ['beacon'], wasOpenedAtLogin: true, settings: wanted })).toBe(lastHosted);
  });

  it.each([
    ['Beacon was started by hand', { argv: ['beacon'] }, {}],
    ['hosting at login was turned off since', {}, { hostAtLogin: false }],
    ['start at login was turned off since', {}, { startAtLogin: false }],
    ['no room was ever hosted', {}, { lastHosted: undefined }],
    ['there is no name to host with', {}, { displayName: '' }],
  ])('does nothing when %s', (_, launch, settings) => {
    expect(
      roomToHostAtLaunch({
        argv: ['beacon', HOST_AT_LOGIN_FLAG],
        wasOpenedAtLogin: false,
        ...launch,
        settings: { ...wanted, ...settings },
      }),
    ).toBeNull();
  });
});
