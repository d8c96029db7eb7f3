/**
 * What an update (v1.5: an edit, a deletion, a reaction, a channel change) does to the messages
 * and channels a client holds. Pure, so the ChatFeed's snapshot, the terminal client and the
 * interface apply the same rules. Every update is idempotent: applying one twice, or applying one
 * to a message that already shows it (pages carry messages as they stand now), changes nothing.
 */
import { type Channel, type ChatMessage, type Update, WIRE_LIMITS } from './protocol.ts';

/** `message` after `update`, or the same object when the update is not about it. */
export function applyToMessage(message: ChatMessage, update: Update): ChatMessage {
  if (update.kind === 'channel') return message;
  if (update.target !== message.seq) return withQuoteUpdated(message, update);
  switch (update.kind) {
    case 'edit': {
      // A deleted message stays deleted, and an older edit never undoes a newer one, whatever order a
      // catch-up brings them in (a page's message already stands as of its latest edit).
      if (message.deleted || (message.editedAt !== undefined && update.ts < message.editedAt)) return message;
      const { mentions: _mentions, ...rest } = message;
      return {
        ...rest,
        text: update.text,
        editedAt: update.ts,
        ...(update.mentions && update.mentions.length > 0 ? { mentions: [...update.mentions] } : {}),
      };
    }
    case 'delete': {
      const { files: _files, mentions: _mentions, reactions: _reactions, editedAt: _editedAt, ...rest } = message;
      return { ...rest, text: '', deleted: true };
    }
    case 'react': {
      if (message.deleted) return message;
      const reactions = reacted(message.reactions ?? [], update.emoji, update.by, update.on);
      const { reactions: _old, ...rest } = message;
      return reactions.length > 0 ? { ...rest, reactions } : rest;
    }
  }
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
