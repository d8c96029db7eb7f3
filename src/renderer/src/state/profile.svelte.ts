import type {
  ChatApi,
  ChatSnapshot,
  LastHosted,
  NotificationPreferences,
  RecentRoom,
} from '../../../shared/chat-api.ts';

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
  /** Only the desktop app can host; a page served by a host can only join it. */
  readonly canHost: boolean;
  readonly canNotify: boolean;

  readonly #api: ChatApi;

  constructor(api: ChatApi) {
    this.#api = api;
    this.canHost = api.capabilities.host;
    this.canNotify = api.capabilities.notifications;
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
    void this.#api.setPreferences(next);
  }
}
