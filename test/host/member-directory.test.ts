/**
 * The member directory: name order without case or accents, ties by id, joins and leaves in any
 * order, and what a filter over 10,000 members costs.
 */
import { describe, expect, it } from 'vitest';
import { foldName, type Listed, MemberDirectory } from '../../src/host/member-directory.ts';

const listed = (id: string, name: string): Listed & { name: string } => ({ id, name, nameKey: foldName(name) });

describe('the order', () => {
  it('ignores case and accents, and puts equal names in id order', () => {
    const directory = new MemberDirectory<ReturnType<typeof listed>>();
    for (const member of [
      listed('m_3', 'ana'),
      listed('m_1', 'Zoë'),
      listed('m_2', 'Ána'),
      listed('m_4', 'ANA'),
      listed('m_0', 'Bob'),
    ]) {
      directory.add(member);
    }
    expect(directory.page('', 0, 10).members.map((m) => m.id)).toEqual(['m_2', 'm_3', 'm_4', 'm_0', 'm_1']);
  });

  it('stays sorted through joins and leaves in random order, and adding twice lists once', () => {
    const directory = new MemberDirectory<ReturnType<typeof listed>>();
    const everyone = Array.from({ length: 500 }, (_, i) => listed(`m_${i}`, `Name ${(i * 7919) % 500}`));
    for (const member of everyone) directory.add(member);
    directory.add(everyone[0]!);
    for (const member of everyone.filter((_, i) => i % 3 === 0)) directory.remove(member);
    directory.remove(listed('m_nobody', 'Name 1'));
    const left = everyone.filter((_, i) => i % 3 !== 0);
    const expected = [...left]
      .sort((a, b) => (a.nameKey < b.nameKey ? -1 : a.nameKey > b.nameKey ? 1 : a.id < b.id ? -1 : 1))
      .map((m) => m.id);
    expect(directory.size).toBe(left.length);
    expect(directory.page('', 0, 1_000).members.map((m) => m.id)).toEqual(expected);
  });
});

describe('a filter', () => {
  it('finds names containing the query, folded, and pages through the matches', () => {
    const directory = new MemberDirectory<ReturnType<typeof listed>>();
    for (const [id, name] of [
      ['m_1', 'Émile'],
      ['m_2', 'emilia'],
      ['m_3', 'Bob'],
      ['m_4', 'Jérémie'],
      ['m_5', 'ＥＭＩＬ'],
    ] as const) {
      directory.add(listed(id, name));
    }
    const page = directory.page('  ÉMI ', 1, 2);
    expect(page.total).toBe(4);
    // Full-width letters fold to plain ones (NFKD): 'ＥＭＩＬ' is 'emil'.
    expect(page.members.map((m) => m.name)).toEqual(['Émile', 'emilia']);
    expect(directory.page('émi', 0, 10).members.map((m) => m.name)).toEqual(['ＥＭＩＬ', 'Émile', 'emilia', 'Jérémie']);
  });

  it('over 10,000 members takes a few milliseconds', () => {
    const directory = new MemberDirectory<ReturnType<typeof listed>>();
    for (let i = 0; i < 10_000; i++) directory.add(listed(`m_${i}`, `Member ${i} Ñandú`));
    const started = performance.now();
    const runs = 20;
    for (let i = 0; i < runs; i++) directory.page('andu 99', 0, 50);
    const perQuery = (performance.now() - started) / runs;
    console.log(`filter over 10,000 members: ${perQuery.toFixed(2)} ms per query`);
    expect(directory.page('andu 99', 0, 50).total).toBe(0);
    expect(directory.page('99 ñandu', 0, 50).total).toBe(100);
    // Generous for a shared machine: a person types a letter every ~100 ms.
    expect(perQuery).toBeLessThan(25);
  });
});
