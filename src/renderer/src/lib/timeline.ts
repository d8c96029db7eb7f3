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

/**
 * Flattens a conversation into rows: day separators, sender-grouped
 * messages, join/leave lines and this user's not-yet-acknowledged messages
 * (always last, as the host has not ordered them yet).
 */
export function buildTimeline({ messages, notes = [], outgoing = [], me, now }: TimelineInput): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let currentDay = '';
  let lastSender: string | null = null;
  let lastTs = 0;

  const enterDay = (ts: number): void => {
    const key = dayKey(ts);
    if (key !== currentDay) {
      currentDay = key;
      rows.push({ kind: 'day', key: `day-${key}`, label: dayLabel(ts, now) });
      lastSender = null;
    }
  };
  const startsGroup = (from: string, ts: number): boolean => {
    const start = from !== lastSender || ts - lastTs > GROUP_GAP_MS;
    lastSender = from;
    lastTs = ts;
    return start;
  };
  const pushNote = (note: PresenceNote): void => {
    enterDay(note.ts);
    rows.push({ kind: 'note', key: `note-${note.id}`, text: note.text, ts: note.ts });
    lastSender = null;
  };

  const sortedNotes = notes.length > 1 ? [...notes].sort((a, b) => a.afterSeq - b.afterSeq || a.ts - b.ts) : notes;
  let n = 0;
  for (const message of messages) {
    while (n < sortedNotes.length && sortedNotes[n]!.afterSeq < message.seq) pushNote(sortedNotes[n++]!);
    enterDay(message.ts);
    const own = message.from === me;
    rows.push({
      kind: 'message',
      key: `m-${message.seq}`,
      message,
      own,
      groupStart: startsGroup(message.from, message.ts),
      status: own ? 'sent' : null,
    });
  }
  while (n < sortedNotes.length) pushNote(sortedNotes[n++]!);

  for (const item of outgoing) {
    enterDay(item.ts);
    rows.push({ kind: 'outgoing', key: `c-${item.clientId}`, outgoing: item, groupStart: startsGroup(me, item.ts) });
  }
  return rows;
}
