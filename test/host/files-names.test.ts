/**
 * File names as the host keeps them (docs/PROTOCOL.md §18.5) and as the desktop app saves a
 * download: safe on every system, honest on screen.
 */
import { describe, expect, it } from 'vitest';
import { SAVED_NAME_BYTES, sanitizeFileName, savedFileName } from '../../src/shared/file-names.ts';

describe('sanitizeFileName', () => {
  it.each([
    ['plans.pdf', 'plans.pdf'],
    ['Ünïcödé résumé.docx', 'Ünïcödé résumé.docx'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['..\\..\\Windows\\system32', '_.._Windows_system32'],
    ['/absolute/path.txt', '_absolute_path.txt'],
    ['C:\\Users\\me\\x.txt', 'C__Users_me_x.txt'],
    ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['tab\there\u0000nul\u007fdel\u0085nel.txt', 'tab_here_nul_del_nel.txt'],
    ['.bashrc', 'bashrc'],
    ['..', 'file'],
    ['', 'file'],
    ['   ', 'file'],
    ['name. . .', 'name'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['NUL.tar.gz', '_NUL.tar.gz'],
    ['COM1.log', '_COM1.log'],
    ['LPT9', '_LPT9'],
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['photo\u202Egnp.exe', 'photognp.exe'],
    ['\u2067evil\u2069.txt', 'evil.txt'],
    ['a\u200Eb\u200Fc\u061Cd', 'abcd'],
  ])('%j is kept as %j', (raw, kept) => {
    expect(sanitizeFileName(raw)).toBe(kept);
  });

  it('cuts a long name to 255 characters and keeps its extension', () => {
    const kept = sanitizeFileName(`${'x'.repeat(300)}.tar.gz`);
    expect(kept).toHaveLength(255);
    expect(kept.endsWith('x.gz')).toBe(true);
  });

  it('never cuts a character in half', () => {
    const kept = sanitizeFileName('😀'.repeat(200));
    expect(kept.length).toBeLessThanOrEqual(255);
    expect(kept).toBe('😀'.repeat(127));
  });

  it('a name with no usable extension is cut like any other', () => {
    expect(sanitizeFileName(`${'y'.repeat(300)}.${'z'.repeat(40)}`)).toHaveLength(255);
  });
});

describe('savedFileName', () => {
  const bytes = (name: string): number => new TextEncoder().encode(name).length;

  it('cuts a long Chinese name to 200 bytes of UTF-8 (disks allow 255 bytes, not characters) and keeps its extension', () => {
    const saved = savedFileName(`${'会议纪要'.repeat(30)}.pdf`);
    expect(bytes(saved)).toBeLessThanOrEqual(SAVED_NAME_BYTES);
    expect(bytes(saved)).toBeGreaterThan(SAVED_NAME_BYTES - 3);
    expect(saved).toMatch(/^(会议纪要)+[会议纪要]*\.pdf$/u);
    // The host's own rule would have kept all 124 characters: 364 bytes, too long to save.
    expect(bytes(sanitizeFileName(`${'会议纪要'.repeat(30)}.pdf`))).toBe(364);
  });

  it('never cuts a character in half, even one of four bytes', () => {
    expect(savedFileName('😀'.repeat(100))).toBe('😀'.repeat(50));
  });

  it('a short name is kept as the host keeps it, Windows devices and all', () => {
    for (const name of ['plans.pdf', 'CON', 'nul.tar.gz', '../../etc/passwd', 'photo\u202Egnp.exe']) {
      expect(savedFileName(name)).toBe(sanitizeFileName(name));
    }
    expect(savedFileName('CON')).toBe('_CON');
  });
});
