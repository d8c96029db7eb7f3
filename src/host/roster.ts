/**
 * `roster` frames (protocol v1.6): the room's counts to every 'members' client, so a large room's
 * member list can say "2,341 members, 2,290 online" without hearing everyone's presence. A join
 * storm changes the counts thousands of times; they go out at most once per `intervalMs`, as one
 * frame serialized once for all, and only when they differ from what those clients were last told.
 */
import { encode } from '../shared/protocol.ts';
import type { Outlet, TickWriter } from './tick-writer.ts';

export interface RosterCounts {
  total: number;
  online: number;
  complete: boolean;
}

const sameCounts = (a: RosterCounts | null, b: RosterCounts): boolean =>
  a !== null && a.total === b.total && a.online === b.online && a.complete === b.complete;

const saidMembers = (outlet: Outlet): boolean => outlet.routedPresence;

export class Roster {
  readonly #intervalMs: number;
  readonly #writer: TickWriter;
  readonly #counts: () => RosterCounts;
  /** What the last roster frame said (null: none sent yet). */
  #lastSent: RosterCounts | null = null;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** A welcome since the last frame carried other counts than that frame: its client must hear the next ones. */
  #welcomedOther = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: { intervalMs: number; writer: TickWriter; counts: () => RosterCounts }) {
    this.#intervalMs = options.intervalMs;
    this.#writer = options.writer;
    this.#counts = options.counts;
  }

  /** The counts may have changed: a frame goes out when the interval allows. */
  changed(): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastSentAt + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => this.#send(), wait);
  }

  /** A welcome told its client `counts`. */
  welcomed(counts: RosterCounts): void {
    if (!sameCounts(this.#lastSent, counts)) this.#welcomedOther = true;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #send(): void {
    this.#timer = null;
    const counts = this.#counts();
    // Everyone told something else since (the last frame, or a welcome) hears the counts as they are now.
    if (sameCounts(this.#lastSent, counts) && !this.#welcomedOther) return;
    this.#lastSent = counts;
    this.#lastSentAt = Date.now();
    this.#welcomedOther = false;
    this.#writer.broadcast(encode({ type: 'roster', ...counts }), null, saidMembers);
  }
}
