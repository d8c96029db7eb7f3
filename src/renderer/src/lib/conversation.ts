import { ROOM, type ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';

/** The conversation a message belongs to, seen from member `me`: its channel (v1.5), or the other person. */
export function conversationOf(message: Pick<ChatMessage, 'from' | 'to' | 'channel'>, me: string): ConversationId {
  if (message.to === null) return message.channel ?? ROOM;
  return message.from === me ? message.to : message.from;
}

/** Sorts by seq and drops duplicates, keeping the first copy of each seq. */
function normalise(messages: readonly ChatMessage[]): ChatMessage[] {
  let ordered = true;
  for (let i = 1; i < messages.length && ordered; i++) ordered = messages[i - 1]!.seq < messages[i]!.seq;
  // Pages from the host are already in order: skip sorting 100,000 items.
  if (ordered) return messages.slice();
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  const out: ChatMessage[] = [];
  for (const m of sorted) {
    if (out.length === 0 || out[out.length - 1]!.seq !== m.seq) out.push(m);
  }
  return out;
}

export type MergeKind = 'none' | 'append' | 'prepend' | 'mixed';

/**
 * Merges messages into a seq-ordered list without duplicates. Returns a new
 * array only when something changed, and says where the new items went so the
 * list can keep its scroll anchor (a prepend must not move the viewport).
 */
export function mergeBySeq(
  existing: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
): { messages: readonly ChatMessage[]; kind: MergeKind } {
  if (incoming.length === 0) return { messages: existing, kind: 'none' };
  const add = normalise(incoming);
  if (existing.length === 0) return { messages: add, kind: 'append' };
  const first = existing[0]!.seq;
  const last = existing[existing.length - 1]!.seq;
  // The common cases stay O(n) copies with no per-item lookups.
  if (add[0]!.seq > last) return { messages: existing.concat(add), kind: 'append' };
  if (add[add.length - 1]!.seq < first) return { messages: add.concat(existing), kind: 'prepend' };

  const out: ChatMessage[] = [];
  let i = 0;
  let j = 0;
  let added = 0;
  let addedBefore = false;
  let addedAfter = false;
  while (i < existing.length || j < add.length) {
    const a = existing[i];
    const b = add[j];
    if (b === undefined || (a !== undefined && a.seq < b.seq)) {
      out.push(a!);
      i++;
    } else if (a === undefined || b.seq < a.seq) {
      out.push(b);
      added++;
      if (b.seq < first) addedBefore = true;
      else addedAfter = true;
      j++;
    } else {
      out.push(a);
      i++;
      j++;
    }
  }
  if (added === 0) return { messages: existing, kind: 'none' };
  const kind: MergeKind =
    addedBefore && !addedAfter
      ? 'prepend'
      : !addedBefore && out[out.length - 1] !== existing[existing.length - 1]
        ? 'append'
        : 'mixed';
  return { messages: out, kind };
}
