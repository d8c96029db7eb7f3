/**
 * Starting Beacon when the user logs in (Settings: "Start at login", off by default). Windows and
 * macOS through Electron's app.setLoginItemSettings; Linux, where Electron has no login items,
 * through an XDG autostart entry ($XDG_CONFIG_HOME/autostart/beacon.desktop), which GNOME, KDE,
 * Xfce and the other desktops read. Electron-free but for the function it is handed, so it is
 * tested on Node with real files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { LastHosted } from '../shared/chat-api.ts';
import type { Settings } from './settings.ts';

/** On the login item's command line when Beacon should host the room hosted last, its window in the tray. */
export const HOST_AT_LOGIN_FLAG = '--host-last-room';
export const AUTOSTART_FILE = 'beacon.desktop';

export interface LoginItem {
  openAtLogin: boolean;
  args: string[];
}

export function loginItemFor(settings: Pick<Settings, 'startAtLogin' | 'hostAtLogin'>): LoginItem {
  return {
    openAtLogin: settings.startAtLogin,
    args: settings.startAtLogin && settings.hostAtLogin ? [HOST_AT_LOGIN_FLAG] : [],
  };
}

export interface LoginItemTarget {
  platform: NodeJS.Platform;
  /** Electron's app.setLoginItemSettings (Windows, macOS). */
  setLoginItemSettings: (item: LoginItem) => void;
  /** Linux: the autostart folder (autostartFolder) and the program that starts Beacon (the AppImage's own path if any). */
  autostartDir: string;
  executable: string;
}

/** Makes the system's login item match `item`: added, changed or removed. */
export function applyLoginItem(item: LoginItem, target: LoginItemTarget): void {
  if (target.platform !== 'linux') {
    target.setLoginItemSettings(item);
    return;
  }
  const file = join(target.autostartDir, AUTOSTART_FILE);
  if (!item.openAtLogin) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(target.autostartDir, { recursive: true });
  writeFileSync(file, autostartEntry(target.executable, item.args));
}

/** $XDG_CONFIG_HOME/autostart, or ~/.config/autostart when it is unset or not absolute (as the spec says). */
export function autostartFolder(env: NodeJS.ProcessEnv, home: string): string {
  const config = env['XDG_CONFIG_HOME'];
  return join(config && isAbsolute(config) ? config : join(home, '.config'), 'autostart');
}

/** A Desktop Entry that starts `executable` with `args`. */
export function autostartEntry(executable: string, args: readonly string[]): string {
  const exec = [executable, ...args].map(execArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Beacon',
    `Exec=${exec}`,
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * One argument of an Exec line. The Desktop Entry spec: an argument with a reserved character is
 * quoted, and `"`, `` ` ``, `$` and `\` inside quotes take a backslash; the file's own string
 * escaping then doubles every backslash; `%` starts a field code, so a literal one is `%%`. A line
 * break cannot be written at all (it would end the line and start another key).
 */
function execArgument(argument: string): string {
  if (/[\r\n]/.test(argument)) throw new Error('A login item cannot start a program whose path has a line break.');
  const percent = argument.replaceAll('%', '%%');
  if (/^[\w\-./=:+,@%]+$/.test(percent)) return percent;
  const quoted = `"${percent.replace(/["`$\\]/g, '\\$&')}"`;
  return quoted.replaceAll('\\', '\\\\');
}

/**
 * The room to host again as Beacon starts: only when the system started it at login (its flag on
 * the command line; on macOS, which passes no arguments, `wasOpenedAtLogin`), the person still
 * wants it, and there is a room and a name to host it with.
 */
export function roomToHostAtLaunch(state: {
  argv: readonly string[];
  wasOpenedAtLogin: boolean;
  settings: Pick<Settings, 'startAtLogin' | 'hostAtLogin' | 'lastHosted' | 'displayName'>;
}): LastHosted | null {
  const { settings } = state;
  const atLogin = state.argv.includes(HOST_AT_LOGIN_FLAG) || state.wasOpenedAtLogin;
  if (!atLogin || !settings.startAtLogin || !settings.hostAtLogin) return null;
  if (!settings.lastHosted || settings.displayName === '') return null;
  return settings.lastHosted;
}
