import type { ConversationId } from '../../../shared/chat-api.ts';

/** A typing notice stays visible this long unless renewed (senders renew every few seconds). */
export const TYPING_TTL_MS = 5_000;
/** How often this client tells others it is still typing. */
export const TYPING_SEND_INTERVAL_MS = 3_000;

/** Map of `conversation \n member` to the epoch ms the notice expires. */
export type TypingEntries = ReadonlyMap<string, number>;

const keyOf = (conversation: ConversationId, from: string): string => `${conversation}\n${from}`;

export function renewTyping(
  entries: TypingEntries,
  conversation: ConversationId,
  from: string,
  now: number,
): Map<string, number> {
  const next = new Map(entries);
  next.set(keyOf(conversation, from), now + TYPING_TTL_MS);
  return next;
}

export function clearTyping(entries: TypingEntries, conversation: ConversationId, from: string): TypingEntries {
  const key = keyOf(conversation, from);
  if (!entries.has(key)) return entries;
  const next = new Map(entries);
  next.delete(key);
  return next;
}

/** Drops every notice by one member, in whatever conversation: they left the room. */
export function clearTypingBy(entries: TypingEntries, from: string): TypingEntries {
  const suffix = `\n${from}`;
  let changed = false;
  const next = new Map<string, number>();
  for (const [key, expires] of entries) {
    if (key.endsWith(suffix)) changed = true;
    else next.set(key, expires);
  }
  return changed ? next : entries;
}

export function pruneTyping(entries: TypingEntries, now: number): TypingEntries {
  let changed = false;
  const next = new Map<string, number>();
  for (const [key, expires] of entries) {
    if (expires > now) next.set(key, expires);
    else changed = true;
  }
  return changed ? next : entries;
}

/** Member ids currently typing in a conversation, oldest notice first. */
export function typingIn(entries: TypingEntries, conversation: ConversationId, now: number): string[] {
  const prefix = `${conversation}\n`;
  const out: string[] = [];
  for (const [key, expires] of entries) {
    if (expires > now && key.startsWith(prefix)) out.push(key.slice(prefix.length));
  }
  return out;
}

export function shouldSendTyping(lastSentAt: number | null, now: number): boolean {
  return lastSentAt === null || now - lastSentAt >= TYPING_SEND_INTERVAL_MS;
}
