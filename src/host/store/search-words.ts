/**
 * What a search query means (protocol v1.5, §19.8), kept apart from SQL: the words of a query,
 * the FTS5 expression they make, and where they were found in a hit's text.
 *
 * Words are cut as SQLite's `unicode61` tokenizer cuts them (letters, numbers, marks and
 * private-use characters; everything else separates) and compared as it compares them (case
 * folded, diacritics removed), so the ranges drawn in a hit are the words FTS5 matched.
 */

/** A query with more words than this finds nothing (each word is one more posting list to intersect). */
export const MAX_SEARCH_WORDS = 10;

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;
const MARKS = /\p{M}/gu;

/** The words of `query`, or null when it has none or more than MAX_SEARCH_WORDS. */
export function searchWords(query: string): string[] | null {
  const words = query.match(WORD) ?? [];
  return words.length === 0 || words.length > MAX_SEARCH_WORDS ? null : words;
}

const quoted = (word: string): string => `"${word.replaceAll('"', '""')}"`;

/**
 * The FTS5 expression for `words`: each one a quoted string, so nothing a person types is an
 * operator (NEAR, OR, NOT, `-`, `^`, `col:`, `*`), all of them required, the last also as a
 * prefix: FTS5's own (`"buil"*`), or, given `lastAsTerms` (the indexed terms it begins), any of
 * them or itself. Words hold no quote character (WORD has none); doubled anyway.
 */
export function ftsExpression(words: readonly string[], lastAsTerms?: readonly string[]): string {
  const last = words.at(-1)!;
  const prefix = lastAsTerms ? `(${[quoted(last), ...lastAsTerms.map(quoted)].join(' OR ')})` : `${quoted(last)}*`;
  return [...words.slice(0, -1).map(quoted), prefix].join(' AND ');
}

/** The distinct words of `text` as the index holds them (folded), for the table of indexed terms. */
export function indexedTerms(text: string): Set<string> {
  return new Set(Array.from(text.matchAll(WORD), (match) => foldWord(match[0])));
}

/** A word as unicode61 with remove_diacritics compares it. */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(MARKS, '').toLowerCase();
}

/**
 * [start, end) ranges of UTF-16 code units in `text` of the words that match `words`: equal once
 * folded, or (the last word) beginning with it. In order and not overlapping, as a client draws them.
 */
export function highlightRanges(text: string, words: readonly string[]): [number, number][] {
  const folded = words.map(foldWord);
  const exact = new Set(folded);
  const prefix = folded.at(-1) ?? '';
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(WORD)) {
    const word = foldWord(match[0]);
    if (exact.has(word) || (prefix !== '' && word.startsWith(prefix))) {
      ranges.push([match.index, match.index + match[0].length]);
    }
  }
  return ranges;
}

/** The first `max` UTF-16 code units of `text`, without cutting a surrogate pair in two. */
export function startOf(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.charCodeAt(max - 1);
  return text.slice(0, cut >= 0xd800 && cut <= 0xdbff ? max - 1 : max);
}
