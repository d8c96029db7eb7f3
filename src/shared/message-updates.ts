/**
 * What an update (v1.5: an edit, a deletion, a reaction, a channel change) does to the messages
 * and channels a client holds. Pure, so the ChatFeed's snapshot, the terminal client and the
 * interface apply the same rules. Every update is idempotent: applying one twice, or applying one
 * to a message that already shows it (pages carry messages as they stand now), changes nothing.
 */
import { type Channel, type ChatMessage, type ReplyQuote, type Update, WIRE_LIMITS } from './protocol.ts';

/** An update about a message (not a channel). */
export type MessageUpdate = Exclude<Update, { kind: 'channel' }>;

export const isMessageUpdate = (update: Update): update is MessageUpdate => update.kind !== 'channel';

/**
 * `message` after `update`, or the same object when nothing changed (so a list can tell by
 * identity). Only the author edits or deletes: the host says so too, and a confused or hostile
 * host cannot make someone else's words change here. A deletion is final.
 */
export function applyToMessage(message: ChatMessage, update: Update): ChatMessage {
  if (update.kind === 'channel') return message;
  if (update.target !== message.seq) return withQuoteUpdated(message, update);
  if (message.deleted) return message;
  switch (update.kind) {
    case 'edit': {
      // An older edit never undoes a newer one, whatever order a catch-up brings them in (a page's
      // message already stands as of its latest edit).
      if (update.by !== message.from || (message.editedAt !== undefined && update.ts < message.editedAt))
        return message;
      const mentions = update.mentions && update.mentions.length > 0 ? [...update.mentions] : undefined;
      if (message.text === update.text && message.editedAt === update.ts && sameIds(message.mentions, mentions))
        return message;
      const { mentions: _mentions, ...rest } = message;
      return { ...rest, text: update.text, editedAt: update.ts, ...(mentions ? { mentions } : {}) };
    }
    case 'delete': {
      if (update.by !== message.from) return message;
      const { files: _files, mentions: _mentions, reactions: _reactions, editedAt: _editedAt, ...rest } = message;
      return { ...rest, text: '', deleted: true };
    }
    case 'react': {
      const before = message.reactions ?? [];
      const reactions = reacted(before, update.emoji, update.by, update.on);
      if (reactions === before) return message;
      const { reactions: _old, ...rest } = message;
      return reactions.length > 0 ? { ...rest, reactions } : rest;
    }
  }
}

/**
 * A reply's quote after its original changed, as the host would now quote it: the new start of the
 * text, or deleted. The same quote when it is not about `original` or nothing changed.
 */
export function requote(quote: ReplyQuote, original: ChatMessage): ReplyQuote {
  if (quote.seq !== original.seq) return quote;
  if (original.deleted) return quote.deleted ? quote : { seq: quote.seq, from: quote.from, text: '', deleted: true };
  const text = quoteOf(original.text);
  return text === quote.text ? quote : { ...quote, text };
}

function sameIds(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * `messages` with `updates` applied in order; the array itself when nothing changed. Each update
 * touches only its target and the replies quoting it (found through an index), so a page of many
 * updates costs in proportion to its length, not to its length times the messages held.
 */
export function applyToMessages(messages: ChatMessage[], updates: readonly Update[]): ChatMessage[] {
  const position = new Map<number, number>();
  const repliesTo = new Map<number, number[]>();
  messages.forEach((message, index) => {
    position.set(message.seq, index);
    const quoted = message.replyTo?.seq;
    if (quoted !== undefined) repliesTo.set(quoted, [...(repliesTo.get(quoted) ?? []), index]);
  });
  let result: ChatMessage[] | null = null;
  for (const update of updates) {
    if (update.kind === 'channel') continue;
    const target = position.get(update.target);
    const touched =
      target === undefined ? (repliesTo.get(update.target) ?? []) : [target, ...(repliesTo.get(update.target) ?? [])];
    for (const index of touched) {
      const before = (result ?? messages)[index]!;
      const after = applyToMessage(before, update);
      if (after === before) continue;
      result ??= [...messages];
      result[index] = after;
    }
  }
  return result ?? messages;
}

/** `channels` with a channel update applied: its record replaced, or added at the end when new. */
export function applyToChannels(channels: Channel[], update: Update): Channel[] {
  if (update.kind !== 'channel') return channels;
  const index = channels.findIndex((channel) => channel.id === update.channel.id);
  if (index === -1) return [...channels, update.channel];
  const next = [...channels];
  next[index] = update.channel;
  return next;
}

/** One member's choice of one emoji set to `on`; emoji stay in the order first chosen. */
function reacted(
  reactions: NonNullable<ChatMessage['reactions']>,
  emoji: string,
  by: string,
  on: boolean,
): NonNullable<ChatMessage['reactions']> {
  const existing = reactions.find((reaction) => reaction.emoji === emoji);
  if (on) {
    if (existing?.by.includes(by)) return reactions;
    if (!existing) return [...reactions, { emoji, by: [by] }];
    return reactions.map((reaction) => (reaction === existing ? { emoji, by: [...reaction.by, by] } : reaction));
  }
  if (!existing?.by.includes(by)) return reactions;
  return reactions.flatMap((reaction) => {
    if (reaction !== existing) return [reaction];
    const left = reaction.by.filter((id) => id !== by);
    return left.length > 0 ? [{ emoji, by: left }] : [];
  });
}

/** A reply's quote follows its original: an edit changes the quoted text, a deletion says so. */
function withQuoteUpdated(message: ChatMessage, update: Exclude<Update, { kind: 'channel' }>): ChatMessage {
  const quote = message.replyTo;
  if (!quote || quote.seq !== update.target || quote.deleted) return message;
  if (update.kind === 'delete') {
    const { files: _files, ...rest } = quote;
    return { ...message, replyTo: { ...rest, text: '', deleted: true } };
  }
  if (update.kind === 'edit') {
    const text = quoteOf(update.text);
    return text === quote.text ? message : { ...message, replyTo: { ...quote, text } };
  }
  return message;
}

/** The start of a text as a quote carries it, never ending in half a surrogate pair. */
function quoteOf(text: string): string {
  const cut = text.slice(0, WIRE_LIMITS.quoteChars);
  return cut.isWellFormed() ? cut : cut.slice(0, -1);
}
