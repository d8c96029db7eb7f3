import { WebSocket } from 'ws';
import { CLOSE } from '../shared/protocol.ts';

/** One member's outgoing side, as the writer sees it. */
export interface Outlet {
  ws: WebSocket;
  /** Frames waiting for the end of the tick. */
  pending: string[];
  /** Their length in UTF-16 units: a member's queue is bounded before it is ever joined into one string. */
  pendingChars: number;
  /** True when `pending` holds anything besides this tick's shared room frames. */
  hasOwnFrames: boolean;
  /** Presence news numbered at or below this was already in the outlet's welcome (Infinity: not joined, owed none). */
  presenceSeen: number;
  /**
   * v1.6: the client said 'members'. Presence news given a route (a large room's) reaches it only
   * when the route names it; everyone else hears all news, as before.
   */
  routedPresence: boolean;
}

/** One piece of presence news waiting to go out. */
interface PresenceNews {
  item: string;
  except: Outlet | null;
  number: number;
  /** null: everyone; otherwise those who hear all presence and, of the routed outlets, these. */
  routedTo: ReadonlySet<Outlet> | null;
}

/** A dropped slow reader's close frame queues behind what it did not read: the socket is cut after this. */
const SLOW_READER_CUT_MS = 1_000;

/** How long presence news may wait to be sent together with more of it. */
export const PRESENCE_COALESCE_MS = 50;

/**
 * The host's outgoing path. Frames are queued per member and written once per
 * tick: the room frames of a tick are serialized once and the same bytes go to
 * every member that has nothing else queued. One write per member per tick,
 * instead of one per message, is what keeps fan-out cheap (docs/PERFORMANCE.md).
 * A member whose unsent data would pass `maxBufferedBytes` has stopped reading
 * and is dropped, so no reader can grow the host's memory: the check covers
 * the write about to be made (one large write used to go through whole) and
 * frames still queued for the tick. A single write into an empty buffer is
 * always allowed; its size is bounded by the page budgets (`maxPageBytes`).
 */
export class TickWriter {
  readonly #maxBufferedBytes: number;
  /** Everyone a room frame goes to, at the moment it is sent. */
  readonly #audience: () => Iterable<Outlet>;
  readonly #onSlowReader: (outlet: Outlet) => void;
  #tickRoom: string[] = [];
  readonly #dirty = new Set<Outlet>();
  #flushScheduled = false;
  /** Those of the audience whose routedPresence is false (the writer is told, so it never scans for them). */
  readonly #hearingAll: () => Iterable<Outlet>;
  #presence: PresenceNews[] = [];
  #presenceNumber = 0;
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: {
    maxBufferedBytes: number;
    audience: () => Iterable<Outlet>;
    /** The audience but its routed outlets (default: the audience, filtered). */
    hearingAll?: () => Iterable<Outlet>;
    /** Told when an outlet is dropped for reading too slowly. */
    onSlowReader?: (outlet: Outlet) => void;
  }) {
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#audience = options.audience;
    this.#hearingAll = options.hearingAll ?? (() => [...this.#audience()].filter((outlet) => !outlet.routedPresence));
    this.#onSlowReader = options.onSlowReader ?? (() => {});
  }

  /** The number of the latest presence news: a welcome built now already reflects it. */
  get presenceNumber(): number {
    return this.#presenceNumber;
  }

  /**
   * Queues a frame for one member, after any presence news still waiting that
   * this member has not had. The news goes to this member alone, so a join
   * storm stays one write per member per window for everyone else (a welcome,
   * which already reflects the news, takes none).
   */
  queue(outlet: Outlet, item: string): void {
    this.#presenceTo(outlet);
    outlet.pending.push(item);
    outlet.pendingChars += item.length;
    outlet.hasOwnFrames = true;
    // Several large replies in one tick (history pages) to a member that reads nothing. The first frame
    // queued is the one large write always allowed (a welcome); what comes after it must fit.
    const beyondFirst = outlet.pendingChars - outlet.pending[0]!.length;
    if (outlet.ws.bufferedAmount + beyondFirst > this.#maxBufferedBytes) {
      this.#dropSlowReader(outlet);
      return;
    }
    this.#markDirty(outlet);
  }

  /**
   * Queues a room frame for every member but `except` (and, given `only`, those it accepts), after
   * any presence news still waiting. Members the filter leaves out simply have fewer frames this
   * tick: they are written their own joined copy, and everyone else keeps the one shared buffer.
   */
  broadcast(item: string, except: Outlet | null, only?: (outlet: Outlet) => boolean): void {
    this.releasePresence();
    if (this.#broadcast(this.#audience(), item, except, undefined, only)) this.#tickRoom.push(item);
  }

  /**
   * Queues `item` for `outlets`; true when it went to any (the caller then counts it among the
   * tick's room frames, once). Presence news skips those whose welcome already reflected it.
   */
  #broadcast(
    outlets: Iterable<Outlet>,
    item: string,
    except: Outlet | null,
    presenceNumber?: number,
    only?: (outlet: Outlet) => boolean,
  ): boolean {
    let queued = false;
    for (const outlet of outlets) {
      if (outlet === except) continue;
      if (only && !only(outlet)) continue;
      if (presenceNumber !== undefined && outlet.presenceSeen >= presenceNumber) continue;
      outlet.pending.push(item);
      outlet.pendingChars += item.length;
      this.#markDirty(outlet);
      queued = true;
    }
    return queued;
  }

  /**
   * Presence goes out at most every PRESENCE_COALESCE_MS: when many people join
   * at once (a meeting starts, the host restarts) each member gets one write for
   * all of them instead of one per join. A room frame releases the news to
   * everyone first, and a frame queued for one member takes the news that
   * member has not had along, so nobody hears from a member before hearing
   * that they joined. News that a member's welcome already reflected is not sent to
   * that member again.
   *
   * v1.6: news given `routedTo` (in a large room) goes to everyone who hears all presence and, of the
   * routed outlets, only to those in the set: the cost of the news is the size of its audience, not
   * of the room.
   */
  broadcastPresence(item: string, except: Outlet | null, routedTo: ReadonlySet<Outlet> | null = null): void {
    this.#presence.push({ item, except, number: ++this.#presenceNumber, routedTo });
    this.#presenceTimer ??= setTimeout(() => this.releasePresence(), PRESENCE_COALESCE_MS);
  }

  /** Puts the waiting news `outlet` has not had in its queue now; the room-wide release then skips it. */
  #presenceTo(outlet: Outlet): void {
    if (this.#presence.length === 0 || outlet.presenceSeen >= this.#presenceNumber) return;
    for (const { item, except, number, routedTo } of this.#presence) {
      if (number <= outlet.presenceSeen || except === outlet) continue;
      if (routedTo && outlet.routedPresence && !routedTo.has(outlet)) continue;
      outlet.pending.push(item);
      outlet.pendingChars += item.length;
    }
    outlet.presenceSeen = this.#presenceNumber;
    outlet.hasOwnFrames = true;
  }

  releasePresence(): void {
    if (this.#presence.length === 0) return;
    if (this.#presenceTimer) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = null;
    for (const { item, except, number, routedTo } of this.#presence.splice(0)) {
      let queued: boolean;
      if (routedTo === null) {
        queued = this.#broadcast(this.#audience(), item, except, number);
      } else {
        // Outlets hearing all presence may be in the route too: the filter sends each the news once.
        const toAll = this.#broadcast(this.#hearingAll(), item, except, number);
        const toRouted = this.#broadcast(routedTo, item, except, number, isRouted);
        queued = toAll || toRouted;
      }
      if (queued) this.#tickRoom.push(item);
    }
  }

  /** Writes what is queued for one outlet now (before closing it). */
  flushNow(outlet: Outlet): void {
    const { pending } = outlet;
    this.#dirty.delete(outlet);
    if (pending.length === 0) return;
    this.#write(outlet, pending.length === 1 ? pending[0]! : `[${pending.join(',')}]`);
  }

  forget(outlet: Outlet): void {
    this.#dirty.delete(outlet);
  }

  stop(): void {
    if (this.#presenceTimer) clearTimeout(this.#presenceTimer);
    this.#presenceTimer = null;
    this.#presence = [];
  }

  #markDirty(outlet: Outlet): void {
    this.#dirty.add(outlet);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const room = this.#tickRoom;
    let shared: Buffer | null = null;
    for (const outlet of this.#dirty) {
      if (!outlet.hasOwnFrames && outlet.pending.length === room.length) {
        shared ??= Buffer.from(room.length === 1 ? room[0]! : `[${room.join(',')}]`);
        this.#write(outlet, shared);
      } else {
        this.flushNow(outlet);
      }
    }
    this.#dirty.clear();
    this.#tickRoom = [];
  }

  #write(outlet: Outlet, data: string | Buffer): void {
    outlet.pending = [];
    outlet.pendingChars = 0;
    outlet.hasOwnFrames = false;
    const { ws } = outlet;
    if (ws.readyState !== WebSocket.OPEN) return;
    const buffered = ws.bufferedAmount;
    if (buffered > 0 && buffered + byteLength(data) > this.#maxBufferedBytes) {
      this.#dropSlowReader(outlet);
      return;
    }
    ws.send(data, { binary: false });
  }

  #dropSlowReader(outlet: Outlet): void {
    outlet.pending = [];
    outlet.pendingChars = 0;
    this.#dirty.delete(outlet);
    const { ws } = outlet;
    if (ws.readyState !== WebSocket.OPEN) return;
    this.#onSlowReader(outlet);
    // The close frame queues behind what is stuck, so the socket is cut shortly after (the peer likely sees 1006).
    ws.close(CLOSE.SLOW_READER, 'BEACON_ERR_SLOW_READER');
    setTimeout(() => ws.terminate(), SLOW_READER_CUT_MS).unref();
  }
}

const isRouted = (outlet: Outlet): boolean => outlet.routedPresence;

const byteLength = (data: string | Buffer): number =>
  typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
