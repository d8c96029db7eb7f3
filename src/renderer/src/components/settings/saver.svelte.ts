/**
 * The settings screen's saving: each control saves on its own, the moment it changes, and the
 * screen says what happened in one place: "Theme saved." in a status line a screen reader reads
 * out, or why it was not saved beside the control that asked.
 */
import type { AppSettings, CommandInput, Result } from '../../../../shared/chat-api.ts';
import type { ProfileState } from '../../state/profile.svelte.ts';

export type SettingKey = 'name' | 'notifications' | 'theme' | 'startup' | 'downloads' | 'closing';

export class SettingsSaver {
  /** The last thing saved, as a sentence ("" until something is). */
  status = $state('');
  /** Why a control's change was not saved, by control. */
  errors = $state<Partial<Record<SettingKey, string>>>({});
  readonly #profile: ProfileState;

  constructor(profile: ProfileState) {
    this.#profile = profile;
  }

  save = (key: SettingKey, change: CommandInput<'setSettings'>, said: string): Promise<boolean> =>
    this.#settle(key, this.#profile.saveSettings(change), said);

  chooseFolder = (): Promise<boolean> =>
    this.#settle('downloads', this.#profile.chooseDownloadsFolder(), 'Downloads folder saved.');

  async #settle(key: SettingKey, pending: Promise<Result<AppSettings>>, said: string): Promise<boolean> {
    this.errors = { ...this.errors, [key]: undefined };
    const result = await pending;
    if (!result.ok) {
      this.errors = { ...this.errors, [key]: result.error.message };
      this.status = '';
      return false;
    }
    this.status = said;
    return true;
  }
}
