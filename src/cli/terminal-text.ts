/**
 * Text from the room made safe for a terminal: what a member wrote can neither start a line
 * that looks like someone else's message, nor send escape sequences (colours, window titles,
 * cursor moves), nor reorder the line with bidi controls.
 */

// A line break is shown as the two characters \n rather than a symbol such as ⏎: it reads the
// same in any terminal encoding, it matches the \x1b form of the other controls, and a script
// reading stdout one message per line can tell what it stands for.
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const CONTROL = /\p{Cc}/gu;
// Bidi marks, embeddings, overrides and isolates, and the line and paragraph separators.
const BIDI_OR_BREAK = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/gu;

/** `text` on one line, with every control character and bidi control spelt out visibly. */
export function printable(text: string): string {
  return text
    .replace(CONTROL, (char) => NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI_OR_BREAK, (char) => `<U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}
