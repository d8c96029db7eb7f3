/**
 * What a display name may be: the same rules on the host, in the app and in the browser.
 * A name must look like what it is: nothing invisible, nothing that reorders the line
 * around it, nothing that reads as the interface's own "You".
 * Which names are too alike to share a room is the host's call (src/host/name-registry.ts).
 */
import { WIRE_LIMITS } from './protocol.ts';

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

const REASON = {
  broken: 'A name cannot contain damaged characters; type it again.',
  empty: 'Enter a name.',
  tooLong: `A name can be at most ${WIRE_LIMITS.nameChars} characters.`,
  invisible: 'A name cannot contain invisible or control characters.',
  unknown: 'A name cannot contain private-use or unassigned characters.',
  stacked: 'A name cannot stack more than two accents on one letter.',
  blank: 'A name needs at least one visible letter, number or symbol.',
  you: '“You” is how the app shows your own name; pick another name.',
} as const;

// `isWellFormed()` is not in the ES2023 lib this project compiles against; in a `u` regex a
// surrogate pair is one code point, so \p{Cs} matches exactly the lone halves.
const LONE_SURROGATE = /\p{Cs}/u;
// Tab, line feed and carriage return are whitespace a paste may bring along, and collapse to a
// space below. Every other control (NEL, ESC, ...) and the line and paragraph separators are refused.
const CONTROL = /(?![\t\n\r])\p{Cc}|[\u2028\u2029]/u;
const WHITESPACE_RUN = /\p{White_Space}+/gu;
// Zero-width joiners inside emoji sequences (👩‍💻, ❤️‍🔥, 👩🏽‍💻) and emoji presentation selectors
// are the only invisible characters a name keeps. They are blanked out before the checks below.
const EMOJI_JOINER =
  /(?<=\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)?)\u200D(?=\p{Extended_Pictographic})/gu;
const EMOJI_SELECTOR = /(?<=\p{Emoji})[\uFE0E\uFE0F]/gu;
// Format characters (soft hyphen, zero-width space, bidi overrides and isolates, BOM, tags),
// default-ignorable characters (Hangul fillers, combining grapheme joiner, variation selectors),
// and the blank braille cell: all draw nothing or move other text, so none may hide in a name.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
const UNKNOWN = /[\p{Co}\p{Cn}]/u;
const STACKED_MARKS = /\p{M}{3,}/u;
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;
const READS_AS_YOU = /^you$|\(\s*you\s*\)/i;

/**
 * The name to use for `raw`, normalised, or why it cannot be used. `maxChars` is longer for a
 * room's name as a nearby room announces it (WIRE_LIMITS.roomNameChars), under the same rules.
 */
export function checkDisplayName(raw: string, maxChars: number = WIRE_LIMITS.nameChars): NameCheck {
  if (LONE_SURROGATE.test(raw)) return refuse('broken');
  const normal = raw.normalize('NFKC');
  if (CONTROL.test(normal)) return refuse('invisible');
  const name = normal.replace(WHITESPACE_RUN, ' ').trim();
  if (name === '') return refuse('empty');
  if (name.length > maxChars) return maxChars === WIRE_LIMITS.nameChars ? refuse('tooLong') : tooLong(maxChars);

  const withoutEmojiParts = name.replace(EMOJI_JOINER, '').replace(EMOJI_SELECTOR, '');
  // Default-ignorables include the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0.
  const visible = withoutEmojiParts.replace(/\p{White_Space}|\p{Default_Ignorable_Code_Point}|\u2800/gu, '');
  // Blank before invisible: a name of only U+200B is better told it is blank.
  if (!VISIBLE.test(visible)) return refuse('blank');
  if (INVISIBLE.test(withoutEmojiParts)) return refuse('invisible');
  if (UNKNOWN.test(name)) return refuse('unknown');
  if (STACKED_MARKS.test(withoutEmojiParts)) return refuse('stacked');
  if (READS_AS_YOU.test(name)) return refuse('you');
  return { ok: true, name };
}

/**
 * `name + suffix`, with `name` shortened so the whole fits in `maxChars` UTF-16 units.
 * Cuts only between graphemes, so an emoji, a letter with its accents or a surrogate pair
 * is kept whole or dropped whole. `suffix` itself is assumed to fit.
 */
export function withSuffix(name: string, suffix: string, maxChars: number): string {
  if (name.length + suffix.length <= maxChars) return name + suffix;
  let kept = '';
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(name)) {
    if (kept.length + segment.length + suffix.length > maxChars) break;
    kept += segment;
  }
  return kept.trimEnd() + suffix;
}

function tooLong(maxChars: number): NameCheck {
  return { ok: false, reason: `A name can be at most ${maxChars} characters.` };
}

function refuse(reason: keyof typeof REASON): NameCheck {
  return { ok: false, reason: REASON[reason] };
}
