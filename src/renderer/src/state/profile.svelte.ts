import type {
  AppSettings,
  ChatApi,
  ChatSnapshot,
  CommandInput,
  LastHosted,
  NotificationPreferences,
  RecentRoom,
  Result,
} from '../../../shared/chat-api.ts';
import { applyTheme } from './ui.svelte.ts';

/**
 * What Beacon remembers about this person from one room to the next: the
 * name they go by, the rooms they were in, when to notify them. The start
 * screen offers the first two; the preferences are changed in a room.
 */
export class ProfileState {
  recentRooms = $state.raw<readonly RecentRoom[]>([]);
  displayName = $state('');
  /** The room this app hosted last (desktop), offered again by the host form. */
  lastHosted = $state.raw<LastHosted | null>(null);
  preferences = $state<NotificationPreferences>({ notifyDirect: true, notifyMentions: true });
  /** The settings screen's values as last saved (null until it first opens). */
  settings = $state.raw<AppSettings | null>(null);
  /** Only the desktop app can host; a page served by a host can only join it. */
  readonly canHost: boolean;
  readonly canNotify: boolean;
  /** Start at login, the downloads folder, the close choice: the desktop app's own settings. */
  readonly desktopSettings: boolean;

  readonly #api: ChatApi;

  constructor(api: ChatApi) {
    this.#api = api;
    this.canHost = api.capabilities.host;
    this.canNotify = api.capabilities.notifications;
    this.desktopSettings = api.capabilities.desktopSettings;
  }

  loaded(snapshot: Pick<ChatSnapshot, 'recentRooms' | 'displayName' | 'preferences' | 'lastHosted'>): void {
    this.recentRooms = snapshot.recentRooms;
    this.displayName = snapshot.displayName;
    this.lastHosted = snapshot.lastHosted ?? null;
    this.preferences = snapshot.preferences;
  }

  /** After leaving: the room just left is now first among the recent rooms. */
  backAtStart(start: {
    recentRooms: readonly RecentRoom[];
    displayName: string;
    lastHosted?: LastHosted | null;
  }): void {
    this.recentRooms = start.recentRooms;
    this.displayName = start.displayName;
    if (start.lastHosted !== undefined) this.lastHosted = start.lastHosted;
  }

  setPreferences(change: Partial<NotificationPreferences>): void {
    // The api gets a plain object, not the state proxy: it may copy it across to another process.
    const next = { ...this.preferences, ...change };
    this.preferences = next;
    if (this.settings) this.settings = { ...this.settings, ...next };
    void this.#api.setPreferences(next);
  }

  /** Reads the settings (the settings screen opening); null, or why they could not be read. */
  async loadSettings(): Promise<string | null> {
    const result = await this.#api.getSettings();
    if (!result.ok) return result.error.message;
    this.#settingsSaved(result.value);
    return null;
  }

  /** Saves a change from the settings screen; what was saved reaches the rest of the window at once. */
  async saveSettings(change: CommandInput<'setSettings'>): Promise<Result<AppSettings>> {
    const result = await this.#api.setSettings(change);
    if (result.ok) this.#settingsSaved(result.value);
    return result;
  }

  /** The system's folder picker (desktop); the settings as they are after it (unchanged if cancelled). */
  async chooseDownloadsFolder(): Promise<Result<AppSettings>> {
    const result = await this.#api.chooseDownloadsFolder();
    if (result.ok) this.#settingsSaved(result.value);
    return result;
  }

  /** One source of truth: the name the forms fill in and the notification choices follow the saved settings. */
  #settingsSaved(saved: AppSettings): void {
    // A copy: an api in the same page (the browser's, a test's) may answer the same object again.
    this.settings = { ...saved };
    this.displayName = saved.displayName;
    this.preferences = { notifyDirect: saved.notifyDirect, notifyMentions: saved.notifyMentions };
    applyTheme(saved.theme);
  }
}
