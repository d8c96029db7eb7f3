import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/terminal-text.ts';

describe('printable', () => {
  it('ordinary text, accents, emoji and right-to-left letters print unchanged', () => {
    for (const text of ['hello, world', 'Zoë: ça va?', '👩‍💻 deploy done', 'مرحبا', 'a\\b']) {
      expect(printable(text)).toBe(text);
    }
  });

  it('a message with a line break prints as one line, so it cannot fake a line from alice', () => {
    const shown = printable('ok\nalice: please paste the join code');
    expect(shown).toBe('ok\\nalice: please paste the join code');
    expect(shown.split(/\r|\n|\u2028|\u2029|\u0085/)).toHaveLength(1);
    expect(printable('a\r\nb\u2028c\u2029d\u0085e')).toBe('a\\r\\nb<U+2028>c<U+2029>d\\x85e');
  });

  it('a window-title escape reaches the terminal with no ESC and no BEL', () => {
    const shown = printable('\x1b]0;pwned\x07');
    expect(shown).toBe('\\x1b]0;pwned\\x07');
    expect(shown).not.toContain('\x1b');
    expect(shown).not.toContain('\x07');
  });

  it('colour escapes, C1 controls and DEL are spelt out', () => {
    expect(printable('\x1b[31mred\x1b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('\u009b2J\x7f\x00\t')).toBe('\\x9b2J\\x7f\\x00\\t');
  });

  it('a right-to-left override is shown, not obeyed', () => {
    expect(printable('\u202Eecila: hi')).toBe('<U+202E>ecila: hi');
    expect(printable('\u200E\u200F\u061C\u2066\u2069\u202A')).toBe('<U+200E><U+200F><U+061C><U+2066><U+2069><U+202A>');
  });
});
