/**
 * A page of history (a welcome's, a `history` answer's) held to its byte budget as it will be sent
 * (docs/PROTOCOL.md §14, §19.6). The store stops reading at its estimate of each row, which cannot
 * count reactions: a message holds up to 20 emoji, each chosen by up to every member, so a few
 * identities reacting to every message made pages and welcomes several times `maxPageBytes`. It
 * counts an update by its JSON's UTF-16 units too, a third of the bytes of an edit in Chinese.
 */
import type { ChatMessage, Update } from '../../shared/protocol.ts';
import type { HistoryPage } from '../store/history-store.ts';

const bytesOf = (item: ChatMessage | Update): number => Buffer.byteLength(JSON.stringify(item));

/**
 * `page` ending, counted from its bound (the oldest seq for a page `after`, the newest for one
 * `before`), before the first message or update that takes it past `maxBytes` (always one), at one
 * seq for both kinds, so the client's next page goes on where this one ends and gets nothing twice.
 * A page without reactions or updates was already cut by the store's estimate and is returned as it is.
 */
export function withinPageBudget(page: HistoryPage, forward: boolean, maxBytes: number): HistoryPage {
  if (page.updates.length === 0 && !page.messages.some((message) => message.reactions?.length)) return page;
  const items: (ChatMessage | Update)[] = [...page.messages, ...page.updates].sort((a, b) =>
    forward ? a.seq - b.seq : b.seq - a.seq,
  );
  let bytes = 0;
  for (const [i, item] of items.entries()) {
    bytes += bytesOf(item);
    if (i === 0 || bytes <= maxBytes) continue;
    const kept = (seq: number): boolean => (forward ? seq < item.seq : seq > item.seq);
    return {
      messages: page.messages.filter((message) => kept(message.seq)),
      updates: page.updates.filter((update) => kept(update.seq)),
      hasMore: true,
    };
  }
  return page;
}
