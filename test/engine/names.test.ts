import { describe, expect, it } from 'vitest';
import { checkDisplayName, withSuffix } from '../../src/shared/display-name.ts';
import { NameRegistry } from '../../src/host/name-registry.ts';

const HOUR = 60 * 60 * 1000;
const accepted = (raw: string): string | null => {
  const check = checkDisplayName(raw);
  return check.ok ? check.name : null;
};
const refusal = (raw: string): string | null => {
  const check = checkDisplayName(raw);
  return check.ok ? null : check.reason;
};

describe('checkDisplayName', () => {
  it.each(['Zoë', 'José María', '李小龙', 'محمد', 'Ørjan', "O'Brien", 'Anne-Marie', '👩‍💻 dev'])(
    'the real name %s is kept exactly as typed',
    (name) => expect(accepted(name)).toBe(name),
  );

  it('an emoji name with a zero-width joiner is kept whole', () => {
    expect(accepted('\u{1F469}\u200D\u{1F4BB}')).toBe('👩‍💻');
    expect(accepted('👩🏽‍💻')).toBe('👩🏽‍💻');
    expect(accepted('🏳️‍🌈')).toBe('🏳️‍🌈');
    expect(accepted('1️⃣')).toBe('1️⃣');
  });

  it('a fullwidth "ａｌｉｃｅ" becomes plain alice', () => {
    expect(accepted('ａｌｉｃｅ')).toBe('alice');
  });

  it('spaces, tabs and line breaks in a name become one space, and the ends are trimmed', () => {
    expect(accepted('  Ann \t\n  Lee\r\n')).toBe('Ann Lee');
    expect(accepted('Ann\u00A0\u3000Lee')).toBe('Ann Lee');
  });

  it.each([
    ['a zero-width space', 'al\u200Bice'],
    ['a zero-width non-joiner', 'al\u200Cice'],
    ['a zero-width joiner between letters', 'al\u200Dice'],
    ['a soft hyphen', 'al\u00ADice'],
    ['a left-to-right mark', 'alice\u200E'],
    ['a byte order mark', 'ali\uFEFFce'],
    ['a bidi isolate', 'alice\u2066'],
    ['a Hangul filler after the name', 'alice\u3164'],
    ['a blank braille cell after the name', 'alice\u2800'],
    ['a variation selector after a letter', 'a\uFE00lice'],
  ])('%s hidden in a name is refused', (_, raw) => {
    expect(refusal(raw)).toBe('A name cannot contain invisible or control characters.');
  });

  it('a right-to-left override is refused', () => {
    expect(refusal('alice\u202E')).toMatch(/invisible or control/);
    // Displays as "alice", and would reverse the rest of the line after it.
    expect(refusal('\u202Eecila')).toMatch(/invisible or control/);
  });

  it.each([
    ['a next-line control (NEL)', 'alice\u0085bob'],
    ['an ANSI colour escape', '\u001b[31malice'],
    ['a bell', 'alice\u0007'],
    ['a line separator', 'alice\u2028bob'],
    ['a paragraph separator', 'alice\u2029bob'],
  ])('%s in a name is refused', (_, raw) => {
    expect(refusal(raw)).toMatch(/invisible or control/);
  });

  it.each([
    ['a zero-width space', '\u200B'],
    ['a blank braille cell', '\u2800'],
    ['a Hangul filler', '\u3164'],
    ['Hangul choseong and jungseong fillers', '\u115F\u1160'],
    ['a halfwidth Hangul filler', '\uFFA0'],
    ['only spaces and a combining accent', '  \u0301 '],
  ])('a name of only %s is refused as blank', (_, raw) => {
    expect(refusal(raw)).toBe('A name needs at least one visible letter, number or symbol.');
  });

  it('an empty name asks for one', () => {
    expect(refusal('   ')).toBe('Enter a name.');
  });

  it.each(['You', 'you', 'YOU', 'ｙｏｕ', ' you ', 'alice (you)', 'alice (You)'])(
    '%j cannot pass for the interface’s own "You"',
    (raw) => expect(refusal(raw)).toMatch(/“You”/),
  );

  it('a name that merely contains "you" is fine', () => {
    expect(accepted('Young')).toBe('Young');
  });

  it('a lone surrogate is refused', () => {
    expect(refusal('\uD800x')).toMatch(/damaged/);
    expect(refusal('x\uDC00')).toMatch(/damaged/);
  });

  it('zalgo text is refused, two accents on a letter are not', () => {
    expect(refusal('Z\u0337\u0322\u031Bao')).toMatch(/more than two accents/);
    expect(accepted('Ze\u0301\u0302')).toBe('Zé\u0302');
  });

  it('private-use and unassigned characters are refused', () => {
    expect(refusal('alice\uE000')).toMatch(/private-use or unassigned/);
    expect(refusal('alice\u0378')).toMatch(/private-use or unassigned/);
  });

  it('a name may be 40 characters long, not 41', () => {
    expect(accepted('x'.repeat(40))).toBe('x'.repeat(40));
    expect(refusal('x'.repeat(41))).toBe('A name can be at most 40 characters.');
    // Counted after normalisation: surrounding spaces do not count.
    expect(accepted(` ${'x'.repeat(40)} `)).toBe('x'.repeat(40));
  });
});

describe('withSuffix', () => {
  it('adds the suffix when it fits', () => {
    expect(withSuffix('alice', ' (2)', 40)).toBe('alice (2)');
  });

  it('shortening a long name never splits an emoji', () => {
    const name = `${'a'.repeat(34)}👩‍💻`; // 34 + 5 UTF-16 units
    expect(withSuffix(name, ' (2)', 40)).toBe(`${'a'.repeat(34)} (2)`);
    expect(withSuffix(`${'a'.repeat(35)}😀`, ' (2)', 40)).toBe(`${'a'.repeat(35)} (2)`);
  });

  it('shortening keeps a letter with its accent together and drops the space before the suffix', () => {
    expect(withSuffix('abc de\u0301f', ' (2)', 11)).toBe('abc de\u0301 (2)');
    expect(withSuffix('abc de\u0301f', ' (2)', 10)).toBe('abc d (2)');
    expect(withSuffix('abc defgh', ' (2)', 8)).toBe('abc (2)');
  });
});

describe('NameRegistry', () => {
  it('the first to ask gets the name, the next one a numbered name', () => {
    const names = new NameRegistry();
    expect(names.claim('alice', 'm1', 0)).toBe('alice');
    expect(names.claim('alice', 'm2', 0)).toBe('alice (2)');
    expect(names.claim('alice', 'm3', 0)).toBe('alice (3)');
  });

  it.each([
    ['capitals', 'Alice'],
    ['all capitals', 'ALICE'],
    ['a Cyrillic а', '\u0430lice'],
    ['a Cyrillic е', 'alic\u0435'],
    ['fullwidth letters', 'ａｌｉｃｅ'],
    ['a zero-width space', 'al\u200Bice'],
  ])('%s cannot pass for alice', (_, lookAlike) => {
    const names = new NameRegistry();
    names.claim('alice', 'm1', 0);
    expect(names.claim(lookAlike, 'm2', 0)).toBe(`${lookAlike} (2)`);
  });

  it('a Cyrillic "аlice" cannot pass for alice, whoever came first', () => {
    const names = new NameRegistry();
    expect(names.claim('\u0430lice', 'm1', 0)).toBe('\u0430lice');
    expect(names.claim('alice', 'm2', 0)).toBe('alice (2)');
  });

  it('"rn" cannot pass for "m", nor a capital I for an l', () => {
    const names = new NameRegistry();
    names.claim('kim', 'm1', 0);
    expect(names.claim('kirn', 'm2', 0)).toBe('kirn (2)');
    names.claim('lan', 'm3', 0);
    expect(names.claim('Ian', 'm4', 0)).toBe('Ian (2)');
  });

  it('a numbered name skips numbers someone already looks like', () => {
    const names = new NameRegistry();
    names.claim('bob', 'm1', 0);
    names.claim('Bob (2)', 'm2', 0);
    expect(names.claim('bob', 'm3', 0)).toBe('bob (3)');
  });

  it('a numbered long name is shortened to fit', () => {
    const names = new NameRegistry();
    const long = 'x'.repeat(40);
    names.claim(long, 'm1', 0);
    expect(names.claim(long, 'm2', 0)).toBe(`${'x'.repeat(36)} (2)`);
  });

  it('a look-alike of "You" gets a number', () => {
    const names = new NameRegistry();
    expect(names.claim('\u0443\u043Eu', 'm1', 0)).toBe('\u0443\u043Eu (2)');
  });

  it('a member asking again for its own name keeps it, and a renamed member frees the old one', () => {
    const names = new NameRegistry();
    expect(names.claim('alice', 'm1', 0)).toBe('alice');
    expect(names.claim('Alice', 'm1', 0)).toBe('Alice');
    expect(names.claim('ally', 'm1', 0)).toBe('ally');
    expect(names.claim('alice', 'm2', 0)).toBe('alice');
  });

  it('a departed member’s name stays theirs for a day', () => {
    const names = new NameRegistry();
    names.claim('alice', 'm1', 0);
    names.release('m1', 0);
    expect(names.claim('alice', 'm2', 23 * HOUR)).toBe('alice (2)');
    expect(names.claim('alice', 'm1', 23 * HOUR)).toBe('alice');
    names.release('m1', 23 * HOUR);
    expect(names.claim('alice', 'm3', 47 * HOUR + 1)).toBe('alice');
  });

  it('the reservation lasts as long as the reserveMs option says', () => {
    const names = new NameRegistry({ reserveMs: 1000 });
    names.claim('alice', 'm1', 0);
    names.release('m1', 0);
    expect(names.claim('alice', 'm2', 999)).toBe('alice (2)');
    expect(names.claim('alice', 'm3', 1000)).toBe('alice');
  });

  it('identities loaded from the store keep their names until their reservation ends', () => {
    const names = new NameRegistry();
    names.reserve('alice', 'm1', 10 * HOUR);
    expect(names.claim('ALICE', 'm2', HOUR)).toBe('ALICE (2)');
    expect(names.claim('alice', 'm1', 2 * HOUR)).toBe('alice');

    names.reserve('bob', 'm3', 10 * HOUR);
    names.prune(10 * HOUR);
    expect(names.claim('bob', 'm4', 10 * HOUR)).toBe('bob');
  });

  it('a stored identity whose name looks like one already reserved gets a number when it returns', () => {
    const names = new NameRegistry();
    names.reserve('alice', 'm1', 10 * HOUR);
    names.reserve('\u0430lice', 'm2', 10 * HOUR);
    expect(names.claim('\u0430lice', 'm2', HOUR)).toBe('\u0430lice (2)');
  });
});

describe('reservations stay bounded', () => {
  it('past the cap, the reservation that would end first is given up, and the newest ones stay', () => {
    const registry = new NameRegistry({ reserveMs: 1_000, maxReservations: 3 });
    for (let i = 0; i < 5; i++) {
      registry.claim(`person ${i}`, `m${i}`, i);
      registry.release(`m${i}`, i);
    }
    // m0 and m1 were given up: their names are free again; m2..m4 still hold theirs.
    expect(registry.claim('person 0', 'x0', 10)).toBe('person 0');
    expect(registry.claim('person 1', 'x1', 10)).toBe('person 1');
    expect(registry.claim('person 4', 'x4', 10)).toBe('person 4 (2)');
  });
});
