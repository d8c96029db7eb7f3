import type { ConversationId } from '../../../shared/chat-api.ts';
import type { ChatMessage } from '../../../shared/protocol.ts';
import { conversationOf } from './conversation.ts';

/**
 * Whether a newly arrived message adds to an unread count: other people's
 * messages, unless the person is looking at that conversation right now.
 */
export function countsAsUnread(
  message: Pick<ChatMessage, 'from' | 'to'>,
  me: string,
  active: ConversationId | null,
  visible: boolean,
): boolean {
  if (message.from === me) return false;
  return !(visible && conversationOf(message, me) === active);
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
