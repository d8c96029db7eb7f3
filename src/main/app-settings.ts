/**
 * The settings screen's values (AppSettings) over the settings file: what the screen shows, and
 * what a change from it writes. The file stays the one source of truth: the name the join and
 * host forms fill in, the notification choices setPreferences changes, and the close-while-hosting
 * answer the first close asks for are the same fields the screen reads and writes.
 */
import type { AppSettings, CommandInput, Result } from '../shared/chat-api.ts';
import { checkDisplayName } from '../shared/display-name.ts';
import { fail, ok } from '../shared/result.ts';
import type { Settings } from './settings.ts';

export function appSettingsOf(settings: Readonly<Settings>): AppSettings {
  return {
    displayName: settings.displayName,
    notifyDirect: settings.notifyDirect,
    notifyMentions: settings.notifyMentions,
    theme: settings.theme,
    startAtLogin: settings.startAtLogin,
    hostAtLogin: settings.startAtLogin && settings.hostAtLogin,
    downloadsFolder: settings.downloadsFolder ?? null,
    closeWhileHosting: settings.closeWhileHosting ?? 'ask',
  };
}

/**
 * What a change from the settings screen writes to the file, or why it is refused. The name
 * follows the host's own rules (as joining does), so a name saved here is one a room accepts.
 * Hosting at login needs starting at login: turning that off turns hosting at login off too.
 */
export function settingsChange(
  current: Readonly<Settings>,
  input: CommandInput<'setSettings'>,
): Result<Partial<Settings>> {
  const change: Partial<Settings> = {};
  if (input.displayName !== undefined) {
    const check = checkDisplayName(input.displayName);
    if (!check.ok) return fail('BEACON_ERR_INVALID_INPUT', check.reason);
    change.displayName = check.name;
  }
  if (input.notifyDirect !== undefined) change.notifyDirect = input.notifyDirect;
  if (input.notifyMentions !== undefined) change.notifyMentions = input.notifyMentions;
  if (input.theme !== undefined) change.theme = input.theme;
  if (input.startAtLogin !== undefined) change.startAtLogin = input.startAtLogin;
  if (input.hostAtLogin !== undefined) change.hostAtLogin = input.hostAtLogin;
  const startAtLogin = change.startAtLogin ?? current.startAtLogin;
  if (!startAtLogin && (change.hostAtLogin ?? current.hostAtLogin)) change.hostAtLogin = false;
  // Only null comes from the page (back to Downloads): a folder is set by the picker in main.
  if (input.downloadsFolder === null) change.downloadsFolder = undefined;
  if (input.closeWhileHosting !== undefined)
    change.closeWhileHosting = input.closeWhileHosting === 'ask' ? undefined : input.closeWhileHosting;
  return ok(change);
}
