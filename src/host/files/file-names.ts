/**
 * A file's name as the host keeps and sends it (docs/PROTOCOL.md §18.5): safe to save under on
 * Windows, macOS and Linux, and honest on screen. The sender's name is only a suggestion: it may
 * hold a path (`../../etc/passwd`), a Windows device (`CON.txt`), control characters, or a
 * right-to-left override that makes `photo‮gnp.exe` read as `photoexe.png`.
 *
 * Not the `sanitize-filename` package: it drops characters instead of marking where they were, and
 * knows nothing of bidirectional controls.
 */
import { WIRE_LIMITS } from '../../shared/protocol.ts';

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

export function sanitizeFileName(raw: string, maxChars: number = WIRE_LIMITS.fileNameChars): string {
  let name = raw.normalize('NFC').replace(BIDI_CONTROLS, '').replace(FORBIDDEN, '_');
  name = trimEnds(name);
  const base = name.split('.')[0]!.trimEnd();
  if (DEVICE.test(base)) name = `_${name}`;
  if (name.length > maxChars) name = trimEnds(cut(name, maxChars));
  return name.length > 0 ? name : FALLBACK;
}

/** Leading dots and spaces (hidden files, `..`), trailing dots and spaces (Windows drops them). */
function trimEnds(name: string): string {
  return name.replace(/^[.\s]+/u, '').replace(/[.\s]+$/u, '');
}

/** `name` in at most `max` UTF-16 units, keeping its extension and never splitting a surrogate pair. */
function cut(name: string, max: number): string {
  const extension = EXTENSION.exec(name)?.[0] ?? '';
  const keep = extension.length < max ? extension : '';
  let stem = name.slice(0, name.length - keep.length).slice(0, max - keep.length);
  const last = stem.charCodeAt(stem.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) stem = stem.slice(0, -1);
  return stem + keep;
}
