/**
 * The terminal client's lines for what happens in a room (v1.5 included): a message with its
 * channel, its reply quote, "(edited)" or "message deleted", an update said as a line, reactions
 * summed up, a search hit with its words marked. Pure, so the terminal's words are tested without
 * a terminal; every piece of text from the room goes through printable().
 */
import type { Channel, ChatMessage, FileRef, Member, SearchHit, Update } from '../shared/protocol.ts';
import { DEFAULT_CHANNEL } from '../shared/protocol.ts';
import { printable } from './terminal-text.ts';

/** Quotes and the messages a reaction or search hit points at are shown by their start only. */
const GIST_CHARS = 60;

export interface RoomWords {
  /** A member's name (unsafe text: the functions here make it printable). */
  nameOf(id: string): string;
  /** A channel's record, when known. */
  channel(id: string): Channel | undefined;
  /** This member's id. */
  me: string | null;
}

/** "#release " for a message of a channel other than the default one; "" otherwise. */
function channelPrefix(message: Pick<ChatMessage, 'channel'>, words: RoomWords): string {
  if (message.channel === undefined || message.channel === DEFAULT_CHANNEL) return '';
  return `#${printable(words.channel(message.channel)?.name ?? message.channel)} `;
}

/** Who wrote it, and to whom when it is direct: "Ann", "Ann → you", "Ann → Bob". */
function author(message: Pick<ChatMessage, 'from' | 'to'>, words: RoomWords): string {
  const from = printable(words.nameOf(message.from));
  if (message.to === null) return from;
  return `${from} → ${message.to === words.me ? 'you' : printable(words.nameOf(message.to))}`;
}

/** The start of a text on one line, with an ellipsis when cut. */
export function gist(text: string, chars = GIST_CHARS): string {
  const points = [...text];
  return printable(points.length > chars ? `${points.slice(0, chars).join('')}…` : text);
}

/** "👍 2 · 🎉 1", in the order the emoji were first chosen; "" with none. */
export function reactionsSummary(reactions: ChatMessage['reactions']): string {
  return (reactions ?? []).map((reaction) => `${printable(reaction.emoji)} ${reaction.by.length}`).join(' · ');
}

/** A message's lines: the message, then its reply quote, its reactions and its files, each indented. */
export function messageLines(message: ChatMessage, words: RoomWords, fileWords: (file: FileRef) => string): string[] {
  const head = `${channelPrefix(message, words)}${author(message, words)}`;
  if (message.deleted) return [`${head}: message deleted`];
  const edited = message.editedAt === undefined ? '' : ' (edited)';
  const lines = [`${head}${edited}: ${printable(message.text)}`];
  const quote = message.replyTo;
  if (quote) {
    lines.push(
      quote.deleted
        ? '  ↪ in reply to a deleted message'
        : `  ↪ in reply to ${printable(words.nameOf(quote.from))}: ${gist(quote.text)}`,
    );
  }
  const reactions = reactionsSummary(message.reactions);
  if (reactions) lines.push(`  reactions: ${reactions}`);
  for (const file of message.files ?? []) lines.push(`  file: ${fileWords(file)}`);
  return lines;
}

/**
 * The line saying what an update did, given the message it changed as it was and as it now is (a
 * message this terminal never showed gets no line: there is nothing to point at), or a channel's
 * record before the change.
 */
export function updateLine(
  update: Update,
  words: RoomWords,
  message: { before: ChatMessage; after: ChatMessage } | null,
  channelBefore?: Channel,
): string | null {
  if (update.kind === 'channel') return channelLine(update.channel, words, update.by, channelBefore);
  if (!message) return null;
  const { before, after } = message;
  const head = `${channelPrefix(after, words)}${author(after, words)}`;
  switch (update.kind) {
    case 'edit':
      return after.deleted ? null : `${head} (edited): ${printable(after.text)}`;
    case 'delete':
      return before.deleted ? null : `${head}: message deleted`;
    case 'react': {
      const who = printable(words.nameOf(update.by));
      const did = update.on ? 'reacted' : 'took back';
      const summary = reactionsSummary(after.reactions) || 'no reactions';
      return `${channelPrefix(after, words)}${who} ${did} ${printable(update.emoji)} on ${author(after, words)}: ${gist(after.text)} [${summary}]`;
    }
  }
}

function channelLine(channel: Channel, words: RoomWords, by: string, before?: Channel): string {
  const who = printable(words.nameOf(by));
  const name = `#${printable(channel.name)}`;
  if (!before) return `* ${who} created ${name}${channel.topic ? `: ${printable(channel.topic)}` : ''}`;
  if (before.archived !== channel.archived) return `* ${who} ${channel.archived ? 'archived' : 'brought back'} ${name}`;
  if (before.name !== channel.name) return `* ${who} renamed #${printable(before.name)} to ${name}`;
  return `* ${who} set the topic of ${name}: ${printable(channel.topic)}`;
}

/** The room's channels, one a line: the one messages go to marked with "*", archived ones said so. */
export function channelList(channels: readonly Channel[], current: string): string[] {
  return channels.map((channel) => {
    const mark = channel.id === current ? '*' : ' ';
    const topic = channel.topic ? ` — ${printable(channel.topic)}` : '';
    const archived = channel.archived ? ' (archived)' : '';
    return `${mark} #${printable(channel.name)}${archived}${topic}`;
  });
}

/**
 * A search hit on one line: where and who, then its text with the words found marked by `mark`
 * (bold on a terminal, *…* in a pipe). The ranges were checked against the text by RoomClient.
 */
export function searchHitLine(hit: SearchHit, words: RoomWords, mark: (text: string) => string): string {
  const { message } = hit;
  const where =
    message.to === null ? `#${printable(words.channel(message.channel ?? DEFAULT_CHANNEL)?.name ?? 'general')}` : 'DM';
  const when = localMinute(message.ts);
  let text = '';
  let at = 0;
  for (const [from, to] of hit.highlights) {
    text += printable(message.text.slice(at, from)) + mark(printable(message.text.slice(from, to)));
    at = to;
  }
  text += printable(message.text.slice(at));
  return `${when} ${where} ${author(message, words)}: ${text}`;
}

/** "2026-12-05 09:30" in this computer's time zone. */
function localMinute(ts: number): string {
  const at = new Date(ts);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

/**
 * What /who prints (v1.6): "N people here (M online)" and a page of names, or for /who NAME those
 * that match. When the page is not everyone, how to find the rest.
 */
export function whoLines(
  page: { members: readonly Member[]; total: number },
  counts: { total: number; online: number },
  query: string,
  me: string | null,
): string[] {
  const people = (n: number): string => `${n} ${n === 1 ? 'person' : 'people'}`;
  const head = query
    ? `${people(page.total)} called "${printable(query)}"`
    : `${people(counts.total)} here (${counts.online} online)`;
  const lines = [head];
  for (const member of page.members) {
    const status = member.status === 'online' ? '' : ` (${member.status})`;
    lines.push(`  ${printable(member.name)}${member.id === me ? ' (you)' : ''}${status}`);
  }
  const more = page.total - page.members.length;
  if (more > 0) lines.push(`  … and ${more} more: /who NAME to find someone`);
  return lines;
}
