/**
 * How files read on screen: sizes, speeds, time left, a type's label and icon,
 * and the box an inline image takes before it has loaded. Pure, so the list
 * can reserve an image's space from its FileRef alone.
 */
import type { Transfer } from '../../../shared/chat-api.ts';
import type { FileRef } from '../../../shared/protocol.ts';

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/** 1,234 bytes · 1.2 KB · 18 MB · 4 GB: decimal units, as file managers show them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** "12 s left", "3 min left", "about 2 h left". */
export function formatTimeLeft(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s left`;
  if (s < 3600) return `${Math.ceil(s / 60)} min left`;
  return `about ${Math.round(s / 3600)} h left`;
}

/** Whole percent done, 0–100; an empty file is done when it is done. */
export function percentDone(t: Pick<Transfer, 'doneBytes' | 'size' | 'state'>): number {
  if (t.state === 'done') return 100;
  if (t.size <= 0) return 0;
  return Math.min(100, Math.floor((t.doneBytes / t.size) * 100));
}

export interface FileKind {
  /** A short word for the type: "PDF", "ZIP archive", "Image". */
  label: string;
  /** A symbol drawn in the card's icon (decorative: the label says it in words). */
  icon: string;
}

const BY_EXTENSION: Record<string, FileKind> = {
  pdf: { label: 'PDF', icon: 'PDF' },
  png: { label: 'PNG image', icon: 'PNG' },
  jpg: { label: 'JPEG image', icon: 'JPG' },
  jpeg: { label: 'JPEG image', icon: 'JPG' },
  gif: { label: 'GIF image', icon: 'GIF' },
  webp: { label: 'WebP image', icon: 'WEBP' },
  heic: { label: 'HEIC image', icon: 'HEIC' },
  zip: { label: 'ZIP archive', icon: 'ZIP' },
  gz: { label: 'Compressed file', icon: 'GZ' },
  tgz: { label: 'Compressed file', icon: 'TGZ' },
  '7z': { label: '7-Zip archive', icon: '7Z' },
  rar: { label: 'RAR archive', icon: 'RAR' },
  txt: { label: 'Text', icon: 'TXT' },
  md: { label: 'Markdown', icon: 'MD' },
  csv: { label: 'Spreadsheet (CSV)', icon: 'CSV' },
  xlsx: { label: 'Excel spreadsheet', icon: 'XLS' },
  xls: { label: 'Excel spreadsheet', icon: 'XLS' },
  ods: { label: 'Spreadsheet', icon: 'ODS' },
  docx: { label: 'Word document', icon: 'DOC' },
  doc: { label: 'Word document', icon: 'DOC' },
  odt: { label: 'Document', icon: 'ODT' },
  pptx: { label: 'PowerPoint', icon: 'PPT' },
  key: { label: 'Keynote', icon: 'KEY' },
  mp4: { label: 'Video', icon: '▶' },
  mov: { label: 'Video', icon: '▶' },
  mkv: { label: 'Video', icon: '▶' },
  webm: { label: 'Video', icon: '▶' },
  mp3: { label: 'Audio', icon: '♪' },
  wav: { label: 'Audio', icon: '♪' },
  ogg: { label: 'Audio', icon: '♪' },
  flac: { label: 'Audio', icon: '♪' },
  json: { label: 'JSON', icon: '{ }' },
  svg: { label: 'SVG drawing', icon: 'SVG' },
  exe: { label: 'Program', icon: 'EXE' },
  msi: { label: 'Installer', icon: 'MSI' },
  dmg: { label: 'Disk image', icon: 'DMG' },
  iso: { label: 'Disk image', icon: 'ISO' },
  html: { label: 'Web page', icon: '</>' },
  htm: { label: 'Web page', icon: '</>' },
  js: { label: 'Script', icon: '</>' },
  ts: { label: 'Script', icon: '</>' },
  py: { label: 'Script', icon: '</>' },
  sh: { label: 'Script', icon: '</>' },
};

/** The extension, lower case, if the name has one that is not the whole name. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * What kind of file it is, from its name's ending first: the declared type is the sender's word and
 * the name's ending is what the receiver's system will act on when the file is opened.
 */
export function fileKind(name: string, type: string): FileKind {
  const ext = extensionOf(name);
  const known = BY_EXTENSION[ext];
  if (known) return known;
  if (type.startsWith('image/')) return { label: 'Image', icon: '▧' };
  if (type.startsWith('video/')) return { label: 'Video', icon: '▶' };
  if (type.startsWith('audio/')) return { label: 'Audio', icon: '♪' };
  if (type.startsWith('text/')) return { label: 'Text', icon: 'TXT' };
  if (ext) return { label: `${ext.toUpperCase().slice(0, 8)} file`, icon: ext.toUpperCase().slice(0, 4) };
  return { label: 'File', icon: '▤' };
}

/**
 * The most pixels a picture without a preview may have to be drawn in the list (100 MB decoded,
 * a 24-megapixel photo); a larger one is shown as a card. A preview is at most 640 px a side (the host checks).
 */
export const MAX_INLINE_PIXELS = 25_000_000;

/**
 * Whether the picture itself is too large for a window to decode: a few hundred KB of PNG can claim
 * 23000 × 23000 pixels (2 GB decoded) and freeze the window each time it is drawn. Only its
 * preview, if it has one, is shown; the picture is downloaded to be opened.
 */
export function tooLargeToShow(file: FileRef): boolean {
  return file.image !== undefined && file.image.width * file.image.height > MAX_INLINE_PIXELS;
}

/** The largest box an inline image takes in the conversation, in CSS px. */
export const INLINE_IMAGE_BOX = { width: 360, height: 280 } as const;

/**
 * The size an inline image is drawn at: its own pixel size (the preview's, else the image's),
 * scaled down to fit INLINE_IMAGE_BOX, never up. Null when the host could not tell its size: such a
 * file is shown as a card, since an image of unknown size would make the list jump when it loads.
 */
export function inlineImageSize(file: FileRef): { width: number; height: number } | null {
  const own = file.image ?? file.preview;
  if (!own) return null;
  // Without a preview the list would decode the picture itself.
  if (!file.preview && tooLargeToShow(file)) return null;
  const scale = Math.min(1, INLINE_IMAGE_BOX.width / own.width, INLINE_IMAGE_BOX.height / own.height);
  return { width: Math.max(1, Math.round(own.width * scale)), height: Math.max(1, Math.round(own.height * scale)) };
}

/** Unicode bidirectional controls (PROTOCOL.md §18.5), which can make "gnp.exe" read as "exe.png". */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/**
 * A name as shown: the host already removes bidi controls; removed here again so a host that did not
 * (an older or a hostile one) cannot disguise a file's ending either.
 */
export function visibleName(name: string): string {
  return name.replace(BIDI_CONTROLS, '') || 'file';
}
