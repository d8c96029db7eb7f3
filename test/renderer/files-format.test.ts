/**
 * How files read on screen, without a browser: sizes, speeds and time left,
 * the kind of a file from its name, the box a picture takes before it loads,
 * the names shown, and the names pasted screenshots get.
 */
import { describe, expect, it } from 'vitest';
import {
  fileKind,
  formatBytes,
  formatSpeed,
  formatTimeLeft,
  inlineImageSize,
  percentDone,
  visibleName,
} from '../../src/renderer/src/lib/file-format.ts';
import { pastedName } from '../../src/renderer/src/lib/file-input.ts';
import { previewSize } from '../../src/renderer/src/lib/image-preview.ts';
import type { FileRef } from '../../src/shared/protocol.ts';

const ref = (extra: Partial<FileRef>): FileRef => ({
  id: 'f_xxxxxxxxxxxxxxxxxxxxxx',
  name: 'a.png',
  size: 1,
  type: 'image/png',
  sha256: 'a'.repeat(64),
  ...extra,
});

describe('sizes, speeds and time left', () => {
  it('reads sizes in decimal units with at most one decimal, as file managers do', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1000)).toBe('1 KB');
    expect(formatBytes(2_431_000)).toBe('2.4 MB');
    expect(formatBytes(98_400_000)).toBe('98 MB');
    expect(formatBytes(4 * 1024 ** 3)).toBe('4.3 GB');
  });

  it('says speed per second and time left in the unit a person would use', () => {
    expect(formatSpeed(21_300_000)).toBe('21 MB/s');
    expect(formatTimeLeft(0.2)).toBe('1 s left');
    expect(formatTimeLeft(59)).toBe('59 s left');
    expect(formatTimeLeft(61)).toBe('2 min left');
    expect(formatTimeLeft(2 * 3600 + 100)).toBe('about 2 h left');
  });

  it('counts whole percent done, 100 once done even for an empty file', () => {
    expect(percentDone({ doneBytes: 45, size: 100, state: 'active' })).toBe(45);
    expect(percentDone({ doneBytes: 99.9, size: 100, state: 'active' })).toBe(99);
    expect(percentDone({ doneBytes: 0, size: 0, state: 'active' })).toBe(0);
    expect(percentDone({ doneBytes: 0, size: 0, state: 'done' })).toBe(100);
  });
});

describe('the kind of a file', () => {
  it('comes from the name’s ending before the declared type, which is only the sender’s word', () => {
    expect(fileKind('report.PDF', '').label).toBe('PDF');
    expect(fileKind('holiday.png', 'application/pdf').label).toBe('PNG image');
    expect(fileKind('setup.exe', 'image/png').label).toBe('Program');
    expect(fileKind('notes', 'text/plain').label).toBe('Text');
    expect(fileKind('data.parquet', '').label).toBe('PARQUET file');
    expect(fileKind('.bashrc', '').label).toBe('File');
  });
});

describe('the box of an inline picture', () => {
  it('fits 360 × 280 keeping the shape, never enlarged, from the image’s size or else the preview’s', () => {
    expect(inlineImageSize(ref({ image: { width: 4032, height: 3024 } }))).toEqual({ width: 360, height: 270 });
    expect(inlineImageSize(ref({ image: { width: 1600, height: 900 } }))).toEqual({ width: 360, height: 203 });
    expect(inlineImageSize(ref({ image: { width: 900, height: 1600 } }))).toEqual({ width: 158, height: 280 });
    expect(inlineImageSize(ref({ image: { width: 32, height: 32 } }))).toEqual({ width: 32, height: 32 });
    expect(inlineImageSize(ref({ preview: { id: 'f_p', width: 640, height: 480 } }))).toEqual({
      width: 360,
      height: 270,
    });
    expect(inlineImageSize(ref({ image: { width: 20000, height: 1 } }))).toEqual({ width: 360, height: 1 });
    // A size nobody knows is a card: a picture of unknown size would move the list when it loads.
    expect(inlineImageSize(ref({}))).toBeNull();
  });

  it('a preview is at most 640 px on its longer side', () => {
    expect(previewSize({ width: 1600, height: 900 })).toEqual({ width: 640, height: 360 });
    expect(previewSize({ width: 800, height: 1200 })).toEqual({ width: 427, height: 640 });
    expect(previewSize({ width: 300, height: 200 })).toEqual({ width: 300, height: 200 });
  });
});

describe('names', () => {
  it('are shown without the bidi controls that disguise an ending', () => {
    expect(visibleName('invoice\u202Egnp.exe')).toBe('invoicegnp.exe');
    expect(visibleName('\u2067\u200F')).toBe('file');
    expect(visibleName('סיכום פגישה.docx')).toBe('סיכום פגישה.docx');
  });

  it('a pasted screenshot is named after when it was pasted, numbered when several come at once', () => {
    const at = new Date(2026, 11, 5, 13, 2, 9);
    expect(pastedName({ name: 'image.png', type: 'image/png' }, at)).toBe('Pasted image 2026-12-05 13.02.09.png');
    expect(pastedName({ name: 'image.jpg', type: 'image/jpeg' }, at, 1)).toBe('Pasted image 2026-12-05 13.02.09 2.jpg');
  });
});
