import type { ChatSnapshot } from '../../../shared/chat-api.ts';
import type { NearbyRoom, NearbyStatus } from '../../../shared/discovery.ts';

/** A beacon: link opened while this window was running: the join form shows it for the person to confirm. */
export interface OpenedInvite {
  address: string;
  code: string | null;
  /** Counts up, so the same link opened twice is shown twice. */
  serial: number;
}

/**
 * Ways to a room without typing its address: the rooms announced on this
 * network (live, as the desktop app hears them) and an invite link opened
 * from outside. A browser page has neither: `available` stays false.
 */
export class NearbyState {
  rooms = $state.raw<readonly NearbyRoom[]>([]);
  status = $state.raw<NearbyStatus>({ state: 'off' });
  /** False when this interface does not look for rooms (a browser page, an app whose snapshot has none). */
  available = $state(false);
  invite = $state.raw<OpenedInvite | null>(null);
  #serial = 0;

  loaded(snapshot: Pick<ChatSnapshot, 'nearby'>): void {
    if (snapshot.nearby) this.changed(snapshot.nearby.rooms, snapshot.nearby.status);
  }

  changed(rooms: readonly NearbyRoom[], status: NearbyStatus): void {
    this.rooms = rooms;
    this.status = status;
    this.available = status.state !== 'off' || rooms.length > 0;
  }

  inviteOpened(address: string, code: string | null): void {
    this.invite = { address, code, serial: ++this.#serial };
  }

  /** The join form took the invite: it is not offered again. */
  inviteShown(serial: number): void {
    if (this.invite?.serial === serial) this.invite = null;
  }
}
