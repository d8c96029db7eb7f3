import type { ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';
import { conversationOf } from './conversation.ts';

/**
 * Whether a newly arrived message adds to an unread count: other people's
 * messages, unless the person is looking at that conversation right now.
 */
export function countsAsUnread(
  message: Pick<ChatMessage, 'from' | 'to' | 'channel'>,
  me: string,
  active: ConversationId | null,
  visible: boolean,
): boolean {
  if (message.from === me) return false;
  return !(visible && conversationOf(message, me) === active);
}

/**
 * Whether a message names its reader (v1.5 `mentions`): counted apart, as the mention badge. A
 * message from an older client carries no `mentions`; given the reader's name, an @Name of theirs
 * in its text counts (§19.7), whole and not the start of a longer name.
 */
export function mentionsMe(
  message: Pick<ChatMessage, 'from' | 'mentions'> & Partial<Pick<ChatMessage, 'text' | 'deleted'>>,
  me: string,
  myName = '',
): boolean {
  if (message.from === me || message.deleted) return false;
  if (message.mentions) return message.mentions.includes(me);
  const text = message.text ?? '';
  if (myName === '') return false;
  const at = `@${myName}`;
  for (let i = text.indexOf(at); i >= 0; i = text.indexOf(at, i + 1)) {
    if (!/^[\p{L}\p{N}_]/u.test(text.slice(i + at.length, i + at.length + 2))) return true;
  }
  return false;
}

export function totalUnread(counts: Iterable<number>): number {
  let total = 0;
  for (const n of counts) total += n;
  return total;
}

/** Badge text: exact up to 99, then "99+" so the badge keeps its size. */
export function unreadBadge(count: number): string {
  return count > 99 ? '99+' : String(count);
}
