import type { MessageStatus, OutgoingMessage } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';

/** A join/leave line in the room, placed after the last message seen when it happened. */
export interface PresenceNote {
  id: string;
  afterSeq: number;
  ts: number;
  text: string;
}

export type TimelineRow =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'note'; key: string; text: string; ts: number }
  | {
      kind: 'message';
      key: string;
      message: ChatMessage;
      own: boolean;
      /** First of a run by the same sender: shows the name and time. */
      groupStart: boolean;
      status: MessageStatus | null;
    }
  | { kind: 'outgoing'; key: string; outgoing: OutgoingMessage; groupStart: boolean };

/** Messages by one sender closer together than this share a header. */
export const GROUP_GAP_MS = 5 * 60_000;

export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function dayLabel(ts: number, now: number): string {
  const key = dayKey(ts);
  if (key === dayKey(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return 'Yesterday';
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Date(ts).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

export interface TimelineInput {
  messages: readonly ChatMessage[];
  notes?: readonly PresenceNote[];
  outgoing?: readonly OutgoingMessage[];
  me: string;
  now: number;
}

/** Where the builder stands after the last row: enough to continue appending later. */
interface Cursor {
  currentDay: string;
  /** Local-midnight bounds of currentDay: a Date is built only when a message leaves them. */
  dayStart: number;
  dayEnd: number;
  lastSender: string | null;
  lastTs: number;
}

// Shared empty defaults: a fresh [] per call would defeat the identity checks below.
const NONE: readonly never[] = [];

const freshCursor = (): Cursor => ({
  currentDay: '',
  dayStart: Infinity,
  dayEnd: -Infinity,
  lastSender: null,
  lastTs: 0,
});

class TimelineBuilder {
  readonly rows: TimelineRow[];
  readonly cursor: Cursor;
  readonly #me: string;
  readonly #now: number;

  constructor(me: string, now: number, rows: TimelineRow[] = [], cursor: Cursor = freshCursor()) {
    this.#me = me;
    this.#now = now;
    this.rows = rows;
    this.cursor = cursor;
  }

  #enterDay(ts: number): void {
    const c = this.cursor;
    if (ts >= c.dayStart && ts < c.dayEnd) return;
    const start = new Date(ts);
    start.setHours(0, 0, 0, 0);
    const end = new Date(start);
    end.setDate(end.getDate() + 1);
    c.dayStart = start.getTime();
    c.dayEnd = end.getTime();
    const key = dayKey(ts);
    if (key !== c.currentDay) {
      c.currentDay = key;
      this.rows.push({ kind: 'day', key: `day-${key}`, label: dayLabel(ts, this.#now) });
      c.lastSender = null;
    }
  }

  #startsGroup(from: string, ts: number): boolean {
    const c = this.cursor;
    const start = from !== c.lastSender || ts - c.lastTs > GROUP_GAP_MS;
    c.lastSender = from;
    c.lastTs = ts;
    return start;
  }

  message(message: ChatMessage): void {
    this.#enterDay(message.ts);
    const own = message.from === this.#me;
    this.rows.push({
      kind: 'message',
      key: `m-${message.seq}`,
      message,
      own,
      groupStart: this.#startsGroup(message.from, message.ts),
      status: own ? 'sent' : null,
    });
  }

  note(note: PresenceNote): void {
    this.#enterDay(note.ts);
    this.rows.push({ kind: 'note', key: `note-${note.id}`, text: note.text, ts: note.ts });
    this.cursor.lastSender = null;
  }

  outgoing(item: OutgoingMessage): void {
    this.#enterDay(item.ts);
    this.rows.push({
      kind: 'outgoing',
      key: `c-${item.clientId}`,
      outgoing: item,
      groupStart: this.#startsGroup(this.#me, item.ts),
    });
  }

  /** Puts updated messages in their rows; an update never moves a message or changes its sender or time. */
  replaceMessages(changed: ReadonlyMap<number, ChatMessage>): void {
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i]!;
      const message = row.kind === 'message' ? changed.get(row.message.seq) : undefined;
      if (row.kind === 'message' && message) this.rows[i] = { ...row, message };
    }
  }

  fork(): TimelineBuilder {
    return new TimelineBuilder(this.#me, this.#now, this.rows.slice(), { ...this.cursor });
  }
}

function buildBase(
  messages: readonly ChatMessage[],
  notes: readonly PresenceNote[],
  me: string,
  now: number,
): TimelineBuilder {
  const b = new TimelineBuilder(me, now);
  const sortedNotes = notes.length > 1 ? [...notes].sort((x, y) => x.afterSeq - y.afterSeq || x.ts - y.ts) : notes;
  let n = 0;
  for (const message of messages) {
    while (n < sortedNotes.length && sortedNotes[n]!.afterSeq < message.seq) b.note(sortedNotes[n++]!);
    b.message(message);
  }
  while (n < sortedNotes.length) b.note(sortedNotes[n++]!);
  return b;
}

function withOutgoing(base: TimelineBuilder, outgoing: readonly OutgoingMessage[]): TimelineRow[] {
  if (outgoing.length === 0) return base.rows;
  const b = base.fork();
  for (const item of outgoing) b.outgoing(item);
  return b.rows;
}

/**
 * Flattens a conversation into rows: day separators, sender-grouped
 * messages, join/leave lines and this user's not-yet-acknowledged messages
 * (always last, as the host has not ordered them yet).
 */
export function buildTimeline({ messages, notes = NONE, outgoing = NONE, me, now }: TimelineInput): TimelineRow[] {
  return withOutgoing(buildBase(messages, notes, me, now), outgoing);
}

/**
 * buildTimeline for a list that mostly grows at the end: when the messages
 * only gained newer items since the last call, it continues from where it
 * stopped instead of regrouping 100,000 messages per new message.
 */
export class IncrementalTimeline {
  #prev: {
    messages: readonly ChatMessage[];
    notes: readonly PresenceNote[];
    me: string;
    now: number;
    base: TimelineBuilder;
  } | null = null;

  build({ messages, notes = NONE, outgoing = NONE, me, now }: TimelineInput): TimelineRow[] {
    const prev = this.#prev;
    let base: TimelineBuilder;
    if (
      prev &&
      prev.notes === notes &&
      prev.me === me &&
      prev.now === now &&
      grewOnlyAtEnd(prev.messages, messages) &&
      // A note placed after a message that had not arrived yet must be re-placed.
      (messages.length === prev.messages.length || notes.every((n) => n.afterSeq < messages[prev.messages.length]!.seq))
    ) {
      const changed = changedInPlace(prev.messages, messages);
      if (prev.messages.length === messages.length && changed.size === 0) {
        base = prev.base;
      } else {
        base = prev.base.fork();
        if (changed.size > 0) base.replaceMessages(changed);
        for (let i = prev.messages.length; i < messages.length; i++) base.message(messages[i]!);
      }
    } else {
      base = buildBase(messages, notes, me, now);
    }
    this.#prev = { messages, notes, me, now, base };
    return withOutgoing(base, outgoing);
  }
}

/**
 * Whether `next` is `prev` plus items at the end. Seqs only grow and a merge never drops one, so
 * the same seqs at both ends of `prev`'s length mean nothing went in between; the messages there
 * may still be new objects (an edit, a deletion, a reaction: see changedInPlace).
 */
function grewOnlyAtEnd(prev: readonly ChatMessage[], next: readonly ChatMessage[]): boolean {
  if (next.length < prev.length) return false;
  if (prev.length === 0) return true;
  return next[0]!.seq === prev[0]!.seq && next[prev.length - 1]!.seq === prev[prev.length - 1]!.seq;
}

/** The messages of `prev`'s length that are new objects in `next` (updated in place), by seq. */
function changedInPlace(prev: readonly ChatMessage[], next: readonly ChatMessage[]): Map<number, ChatMessage> {
  const changed = new Map<number, ChatMessage>();
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) changed.set(next[i]!.seq, next[i]!);
  return changed;
}
