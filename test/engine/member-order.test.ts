/**
 * The member list's order and filter as a client computes it (src/shared/member-order.ts, used when
 * an older host sent the whole room, and by the renderer) against the host's own directory
 * (src/host/member-directory.ts): a person scrolling or filtering sees the same list either way,
 * lookalike and hostile names included.
 */
import { describe, expect, it } from 'vitest';
import { foldName, MemberDirectory } from '../../src/host/member-directory.ts';
import { pageOfMembers } from '../../src/shared/member-order.ts';
import type { Member } from '../../src/shared/protocol.ts';

const NAMES = [
  'Émile',
  'emile',
  'EMILE',
  'Emile',
  'ﬁona',
  'Fiona',
  'İpek',
  'ipek',
  'Ⅻ',
  'xii',
  'Zoë',
  'zoe',
  'Ω',
  'ω',
  'a\u0301na',
  'ána',
  'Ana',
  '🙂',
  '🙂 Ann',
  'Ａｎｎ',
  'ann',
  ' padded ',
  'ß',
  'ss',
  'Ǆ',
  'dž',
  '\u200bann',
];

function members(): Member[] {
  // Ids out of name order, and repeated names: ties must go by id on both sides.
  return NAMES.map((name, i) => ({
    id: `m_${String((i * 7919) % 1000).padStart(4, '0')}`,
    name,
    status: 'online',
    joinedAt: i,
  }));
}

function hostPage(list: Member[], query: string, offset: number, limit: number): string[] {
  const directory = new MemberDirectory<Member & { nameKey: string }>();
  for (const member of list) directory.add({ ...member, nameKey: foldName(member.name) });
  return directory.page(query, offset, limit).members.map((member) => member.id);
}

describe('the member list in name order', () => {
  it('is the same list whether the host or the app pages it, lookalike names included', () => {
    const list = members();
    for (const query of ['', 'emile', 'ÉMILE', 'fi', 'ana', 'ann', '🙂', 'ss', 'i', ' ', 'dž', 'nobody']) {
      for (const [offset, limit] of [
        [0, 50],
        [0, 3],
        [3, 5],
        [20, 200],
        [100, 10],
      ] as const) {
        const mine = pageOfMembers(list, { query, offset, limit }).members.map((member) => member.id);
        expect(mine, `query ${JSON.stringify(query)} offset ${offset} limit ${limit}`).toEqual(
          hostPage(list, query, offset, limit),
        );
      }
    }
  });

  it('finds names without case or accents, and counts all that match', () => {
    const page = pageOfMembers(members(), { query: 'EMILE', limit: 2 });
    expect(page.total).toBe(4);
    expect(page.members).toHaveLength(2);
    expect(
      pageOfMembers(members(), { query: 'fi' })
        .members.map((m) => m.name)
        .sort(),
    ).toEqual(['Fiona', 'ﬁona']);
  });
});
