/**
 * What an update (v1.5: an edit, a deletion, a reaction) does to a message the
 * interface holds. Pure: the host is the source of truth and pages carry
 * messages as they stand, so each update only has to be idempotent (applying
 * it twice changes nothing) and to leave alone what it cannot be about.
 */
import {
  WIRE_LIMITS,
  type ChatMessage,
  type Reaction,
  type ReplyQuote,
  type Update,
} from '../../../shared/protocol.ts';

export type MessageUpdate = Exclude<Update, { kind: 'channel' }>;

export function isMessageUpdate(update: Update): update is MessageUpdate {
  return update.kind === 'edit' || update.kind === 'delete' || update.kind === 'react';
}

/**
 * The message after `update`, or the same object when nothing changed (so a list
 * can tell by identity). A deletion is final; only the author edits or deletes
 * (the host says so too; a confused or hostile one cannot make someone else's
 * words change here).
 */
export function applyUpdate(message: ChatMessage, update: MessageUpdate): ChatMessage {
  if (message.seq !== update.target || message.deleted) return message;
  switch (update.kind) {
    case 'edit': {
      // An older edit replayed after a page that already shows a newer one (a resume) changes nothing.
      if (update.by !== message.from || (message.editedAt !== undefined && update.ts < message.editedAt)) {
        return message;
      }
      const mentions = update.mentions && update.mentions.length > 0 ? update.mentions : undefined;
      if (message.text === update.text && message.editedAt === update.ts && sameIds(message.mentions, mentions)) {
        return message;
      }
      const next: ChatMessage = { ...message, text: update.text, editedAt: update.ts };
      if (mentions) next.mentions = mentions;
      else delete next.mentions;
      return next;
    }
    case 'delete': {
      if (update.by !== message.from) return message;
      const { files: _files, mentions: _mentions, reactions: _reactions, ...kept } = message;
      return { ...kept, text: '', deleted: true };
    }
    case 'react': {
      const reactions = react(message.reactions ?? [], update.emoji, update.by, update.on);
      if (reactions === message.reactions || (reactions.length === 0 && message.reactions === undefined)) {
        return message;
      }
      const next: ChatMessage = { ...message, reactions };
      if (reactions.length === 0) delete next.reactions;
      return next;
    }
  }
}

/** One member's choice of one emoji set on or off; the same array when it already was. */
function react(reactions: readonly Reaction[], emoji: string, by: string, on: boolean): Reaction[] {
  const index = reactions.findIndex((r) => r.emoji === emoji);
  const has = index >= 0 && reactions[index]!.by.includes(by);
  if (has === on) return reactions as Reaction[];
  if (on) {
    // A new emoji goes last (emoji in the order first chosen), a new member at the end of its list.
    if (index < 0) return [...reactions, { emoji, by: [by] }];
    return reactions.map((r, i) => (i === index ? { emoji, by: [...r.by, by] } : r));
  }
  const by2 = reactions[index]!.by.filter((id) => id !== by);
  return by2.length === 0
    ? reactions.filter((_, i) => i !== index)
    : reactions.map((r, i) => (i === index ? { emoji, by: by2 } : r));
}

/**
 * A reply's quote after its original changed: the host would now quote the new
 * start of the text, or say it was deleted. The same quote when it is not about it.
 */
export function requote(quote: ReplyQuote, original: ChatMessage): ReplyQuote {
  if (quote.seq !== original.seq) return quote;
  if (original.deleted) return quote.deleted ? quote : { seq: quote.seq, from: quote.from, text: '', deleted: true };
  const text = original.text.slice(0, WIRE_LIMITS.quoteChars);
  return text === quote.text ? quote : { ...quote, text };
}

function sameIds(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
