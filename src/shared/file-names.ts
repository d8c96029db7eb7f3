/**
 * A file's name made safe to save under on Windows, macOS and Linux, and honest on screen: as the
 * host keeps and sends it (docs/PROTOCOL.md §18.5), and as the desktop app saves a download (it
 * does not trust the host to have done it). The sender's name is only a suggestion: it may hold a
 * path (`../../etc/passwd`), a Windows device (`CON.txt`), control characters, or a right-to-left
 * override that makes `photo‮gnp.exe` read as `photoexe.png`.
 *
 * Not the `sanitize-filename` package: it drops characters instead of marking where they were, and
 * knows nothing of bidirectional controls.
 */
import { WIRE_LIMITS } from './protocol.ts';

/**
 * The most UTF-8 bytes of a saved download's name. Linux and macOS allow 255 bytes (not
 * characters: 120 CJK characters are 360 bytes); the rest is room for `.<id>.part` while it
 * arrives and ` (n)` when the name is taken.
 */
export const SAVED_NAME_BYTES = 200;

/** Bidirectional controls: embeddings and overrides, isolates, the marks, the Arabic letter mark. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
/** Path separators, C0 and C1 controls, DEL, and what Windows forbids in a name. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\\u0000-\u001F\u007F-\u009F<>:"|?*]/g;
/** Windows device names, whatever follows the first dot (`CON.txt`, `com1.tar.gz`, `CONIN$.log` are devices too). */
const DEVICE = /^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$)$/i;
/** An extension worth keeping when a long name is cut: a dot and a few letters or digits. */
const EXTENSION = /\.[\p{L}\p{N}_-]{1,16}$/u;
const FALLBACK = 'file';

/** What one character (a code point) counts for against a limit. */
type Measure = (codePoint: number) => number;
const utf16Units: Measure = (codePoint) => (codePoint > 0xffff ? 2 : 1);
const utf8Bytes: Measure = (codePoint) => (codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4);

/** The name as the host keeps it: at most `maxChars` UTF-16 units (what the wire allows). */
export function sanitizeFileName(raw: string, maxChars: number = WIRE_LIMITS.fileNameChars): string {
  return sanitize(raw, maxChars, utf16Units);
}

/** The name a download is saved under: at most SAVED_NAME_BYTES bytes of UTF-8, whatever the host sent. */
export function savedFileName(raw: string): string {
  return sanitize(raw, SAVED_NAME_BYTES, utf8Bytes);
}

function sanitize(raw: string, max: number, measure: Measure): string {
  let name = raw.normalize('NFC').replace(BIDI_CONTROLS, '').replace(FORBIDDEN, '_');
  name = trimEnds(name);
  const base = name.split('.')[0]!.trimEnd();
  if (DEVICE.test(base)) name = `_${name}`;
  if (sizeOf(name, measure) > max) name = trimEnds(cut(name, max, measure));
  return name.length > 0 ? name : FALLBACK;
}

/** Leading dots and spaces (hidden files, `..`), trailing dots and spaces (Windows drops them). */
function trimEnds(name: string): string {
  return name.replace(/^[.\s]+/u, '').replace(/[.\s]+$/u, '');
}

function sizeOf(text: string, measure: Measure): number {
  let size = 0;
  for (const char of text) size += measure(char.codePointAt(0)!);
  return size;
}

/** `name` in at most `max` (as `measure` counts), keeping its extension and never splitting a character. */
function cut(name: string, max: number, measure: Measure): string {
  const extension = EXTENSION.exec(name)?.[0] ?? '';
  const keep = sizeOf(extension, measure) < max ? extension : '';
  let room = max - sizeOf(keep, measure);
  let stem = '';
  for (const char of name.slice(0, name.length - keep.length)) {
    room -= measure(char.codePointAt(0)!);
    if (room < 0) break;
    stem += char;
  }
  return stem + keep;
}
