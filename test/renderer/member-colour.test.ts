import { describe, expect, it } from 'vitest';
import { MEMBER_HUES, memberHue, memberInitial } from '../../src/renderer/src/lib/member-colour.ts';

describe('member colours', () => {
  it('a member keeps the same colour on every visit', () => {
    expect(memberHue('m_4f2a9c')).toBe(memberHue('m_4f2a9c'));
    expect(MEMBER_HUES).toContain(memberHue('m_4f2a9c'));
  });

  it('a look-alike name does not borrow a colour: colours follow ids, and ids spread over the palette', () => {
    const hues = new Set(Array.from({ length: 48 }, (_, i) => memberHue(`m_${i.toString(36)}x`)));
    expect(hues.size).toBeGreaterThanOrEqual(8);
  });

  it('an avatar shows the first character as people see it', () => {
    expect(memberInitial('zoë')).toBe('Z');
    expect(memberInitial('e\u0301mile')).toBe('E\u0301');
    expect(memberInitial('👩‍💻 dev')).toBe('👩‍💻');
    expect(memberInitial('محمد')).toBe('م');
    expect(memberInitial('')).toBe('');
  });
});
