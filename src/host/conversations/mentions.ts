/**
 * What a `send` or `edit` says it mentions, as the host keeps it (docs/PROTOCOL.md §19.7): ids of
 * members the room knows, each once, in the order given, at most WIRE_LIMITS.mentionsPerMessage
 * (the schema already bounds the list). An id the host does not know is dropped, not refused: the
 * person may have been forgotten since the sender's list was drawn.
 */
import type { HistoryStore } from '../store/history-store.ts';

export function keptMentions(store: HistoryStore, mentions: readonly string[] | undefined): string[] {
  if (!mentions?.length) return [];
  return [...new Set(mentions)].filter((id) => store.hasMember(id));
}
