/**
 * Mentions as the composer types them (v1.5, §19.7): the @word being typed
 * before the caret, the members it could be, and which members a text names
 * as a whole @Name. Names may hold spaces ("@Dana Cohen"), so a name is found
 * by looking for it, never by cutting the text into words.
 */
import { WIRE_LIMITS } from '../../../shared/protocol.ts';

export interface Mentionable {
  id: string;
  name: string;
}

/** Members the picker lists at most: enough to choose from, few enough to read. */
export const PICKER_SIZE = 8;

/** What may follow an @Name: the end, a space, punctuation; never a letter or digit that makes it another name. */
const CONTINUES_NAME = /^[\p{L}\p{N}\p{M}_]/u;

/**
 * The @mention being typed when the caret is at `caret`: where its @ is and what follows it, or
 * null. The @ starts the text or follows a space or an opening bracket (so mail@example.org is no
 * mention), and the query is on one line and no longer than a name.
 */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(Math.max(0, caret - WIRE_LIMITS.nameChars - 1), caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  const start = caret - before.length + at;
  const query = text.slice(start + 1, caret);
  if (/[\n@]/.test(query) || query.startsWith(' ')) return null;
  const previous = start === 0 ? '' : text[start - 1]!;
  if (previous !== '' && !/[\s([{"'«]/u.test(previous)) return null;
  return { start, query };
}

/**
 * The members `query` could be: those whose name, or a word of it, starts with the query (case and
 * accents aside), names starting with it first, then by name; at most PICKER_SIZE.
 */
export function matchingMembers<T extends Mentionable>(members: readonly T[], query: string): T[] {
  const q = fold(query);
  const scored: { member: T; rank: number }[] = [];
  for (const member of members) {
    const name = fold(member.name);
    const rank = name.startsWith(q) ? 0 : name.split(/\s+/).some((word) => word.startsWith(q)) ? 1 : -1;
    if (rank >= 0) scored.push({ member, rank });
  }
  scored.sort((a, b) => a.rank - b.rank || a.member.name.localeCompare(b.member.name));
  return scored.slice(0, PICKER_SIZE).map((s) => s.member);
}

/** The ids of `members` the text names as a whole @Name, in the order of `members`, each once. */
export function mentionedIn(text: string, members: readonly Mentionable[]): string[] {
  const ids: string[] = [];
  for (const member of members) {
    if (findMention(text, member.name, 0) >= 0 && !ids.includes(member.id)) ids.push(member.id);
    if (ids.length === WIRE_LIMITS.mentionsPerMessage) break;
  }
  return ids;
}

/** Where `@name` next stands whole in `text` from `from`, or -1. */
export function findMention(text: string, name: string, from: number): number {
  if (name === '') return -1;
  const at = `@${name}`;
  for (let i = text.indexOf(at, from); i >= 0; i = text.indexOf(at, i + 1)) {
    if (!CONTINUES_NAME.test(text.slice(i + at.length, i + at.length + 2))) return i;
  }
  return -1;
}

function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}
