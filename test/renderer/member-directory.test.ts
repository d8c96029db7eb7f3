/**
 * A large room's member list as state (issue 16): which rows are which, what is asked of the host
 * and when, and the presence map that takes a join storm. No page: the timers are the test's.
 */
import { describe, expect, it } from 'vitest';
import type { ChatApi, CommandInput, MembersAnswer, Result } from '../../src/shared/chat-api.ts';
import type { Member } from '../../src/shared/protocol.ts';
import { pageOfMembers } from '../../src/shared/member-order.ts';
import {
  DIRECTORY_PAGE,
  MemberDirectory,
  type DirectoryTimers,
} from '../../src/renderer/src/state/member-directory.svelte.ts';
import { announcedPosition, localRows, pagedRow, pagedRowCount } from '../../src/renderer/src/state/member-rows.ts';
import { PresenceState } from '../../src/renderer/src/state/presence.svelte.ts';
import { settle } from './fixtures.ts';

const member = (id: string, name: string): Member => ({ id, name, status: 'online', joinedAt: 0 });
const guests = (n: number): Member[] =>
  Array.from({ length: n }, (_, i) => member(`g${i + 1}`, `Guest ${String(i + 1).padStart(5, '0')}`));

/** Timers the test moves by hand. */
function manualTimers(): DirectoryTimers & { advance(ms: number): void } {
  let now = 0;
  let queue: { at: number; run: () => void; id: number }[] = [];
  let ids = 0;
  return {
    now: () => now,
    setTimeout(run, ms) {
      const id = ++ids;
      queue.push({ at: now + ms, run, id });
      return id;
    },
    clearTimeout(handle) {
      queue = queue.filter((t) => t.id !== handle);
    },
    advance(ms) {
      now += ms;
      const due = queue.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      queue = queue.filter((t) => t.at > now);
      for (const t of due) t.run();
    },
  };
}

/** A host stand-in: pages `everyone` as PROTOCOL.md §20 says, refusing the first `refusals` asks for rate. */
function host(everyone: Member[], refusals = 0) {
  const asked: CommandInput<'members'>[] = [];
  const watched: string[][] = [];
  const api: Pick<ChatApi, 'members' | 'watchMembers'> = {
    members: async (input = {}) => {
      asked.push(input);
      if (refusals-- > 0) {
        return { ok: false, error: { code: 'BEACON_ERR_RATE_LIMITED', message: 'Slow down.', retryAfterMs: 500 } };
      }
      return { ok: true, value: pageOfMembers(everyone, input) } satisfies Result<MembersAnswer>;
    },
    watchMembers: async ({ ids } = { ids: [] }) => {
      watched.push(ids);
      return { ok: true, value: { members: [], offset: 0, total: 0 } };
    },
  };
  return { api, asked, watched };
}

describe('rows of a large room', () => {
  it('you first, then the host order with your own entry hidden, so nobody is pushed off the end', () => {
    expect(pagedRow(0, true)).toEqual({ kind: 'you' });
    expect(pagedRow(1, true)).toEqual({ kind: 'sorted', position: 0 });
    expect(pagedRow(0, false)).toEqual({ kind: 'sorted', position: 0 });
    expect(pagedRowCount(10_001, true)).toBe(10_002);
    // Screen readers: you are 1; those after your hidden entry keep a gapless count.
    expect(announcedPosition(0, true, 5)).toBe(2);
    expect(announcedPosition(6, true, 5)).toBe(7);
    expect(announcedPosition(3, false, undefined)).toBe(4);
  });

  it('a complete room lists you first and filters without case or accents', () => {
    const list = [member('b', 'Bob'), member('me', 'Me'), member('a', 'Ánn')];
    expect(localRows(list, 'me', '').map((m) => m.id)).toEqual(['me', 'b', 'a']);
    expect(localRows(list, 'me', 'ANN').map((m) => m.id)).toEqual(['a']);
  });
});

describe('MemberDirectory', () => {
  it('asks for the first page on start, and for other pages only as they come into view', async () => {
    const { api, asked } = host(guests(10_000));
    const directory = new MemberDirectory(api, manualTimers());
    directory.start();
    await settle();
    expect(directory.total).toBe(10_000);
    expect(directory.at(0)?.name).toBe('Guest 00001');
    expect(directory.at(DIRECTORY_PAGE)).toBeUndefined();
    directory.showing(9_980, 9_999);
    await settle();
    expect(directory.at(9_999)?.name).toBe('Guest 10000');
    expect(asked.map((a) => a.offset)).toEqual([0, 9_900]);
  });

  it('a filter typed quickly is asked once, after the pause', async () => {
    const { api, asked } = host(guests(10_000));
    const timers = manualTimers();
    const directory = new MemberDirectory(api, timers);
    directory.start();
    await settle();
    for (const text of ['g', 'gu', 'guest 0432', 'guest 04321']) {
      directory.filter(text);
      timers.advance(50);
    }
    timers.advance(150);
    await settle();
    expect(asked.map((a) => a.query)).toEqual([undefined, 'guest 04321']);
    expect(directory.total).toBe(1);
    expect(directory.at(0)?.id).toBe('g4321');
  });

  it('an answer to an older filter is dropped', async () => {
    const everyone = guests(300);
    let release: (() => void) | null = null;
    const slow: Pick<ChatApi, 'members' | 'watchMembers'> = {
      ...host(everyone).api,
      members: async (input = {}) => {
        if (!input.query) await new Promise<void>((done) => (release = done));
        return { ok: true, value: pageOfMembers(everyone, input) };
      },
    };
    const timers = manualTimers();
    const directory = new MemberDirectory(slow, timers);
    directory.start();
    directory.filter('guest 00007');
    timers.advance(150);
    await settle();
    expect(directory.total).toBe(1);
    release!();
    await settle();
    expect(directory.total).toBe(1);
    expect(directory.at(0)?.id).toBe('g7');
  });

  it('roster changes refetch the rows on screen at most once a second', async () => {
    const { api, asked } = host(guests(1_000));
    const timers = manualTimers();
    const directory = new MemberDirectory(api, timers);
    directory.start();
    await settle();
    directory.showing(0, 20);
    for (let i = 0; i < 30; i++) {
      directory.rosterChanged();
      timers.advance(100);
      await settle();
    }
    // 3 s of changes every 100 ms: the first page again about three times, not thirty.
    const refetches = asked.length - 1;
    expect(refetches).toBeGreaterThanOrEqual(2);
    expect(refetches).toBeLessThanOrEqual(3);
  });

  it('a rate-limited ask waits as long as the host said, then asks again, showing no error', async () => {
    const { api, asked } = host(guests(500), 2);
    const timers = manualTimers();
    const directory = new MemberDirectory(api, timers);
    directory.start();
    await settle();
    expect(asked).toHaveLength(1);
    timers.advance(499);
    await settle();
    expect(asked).toHaveLength(1);
    timers.advance(1);
    await settle();
    expect(asked).toHaveLength(2);
    timers.advance(500);
    await settle();
    expect(asked).toHaveLength(3);
    expect(directory.total).toBe(500);
    expect(directory.problem).toBeNull();
  });

  it('watches the members on screen once scrolling pauses, and only when they changed', async () => {
    const { api, watched } = host(guests(1_000));
    const timers = manualTimers();
    const directory = new MemberDirectory(api, timers);
    directory.start();
    await settle();
    directory.showing(0, 2);
    directory.showing(1, 3);
    timers.advance(250);
    await settle();
    expect(watched).toEqual([['g2', 'g3', 'g4']]);
    directory.showing(1, 3);
    timers.advance(250);
    expect(watched).toHaveLength(1);
  });

  it('a hostile answer of 10,000 members to a page of 100 costs no more than its page', async () => {
    const everyone = guests(10_000);
    const flood: Pick<ChatApi, 'members' | 'watchMembers'> = {
      ...host(everyone).api,
      members: async () => ({ ok: true, value: { members: everyone, offset: 0, total: 10_000 } }),
    };
    const directory = new MemberDirectory(flood, manualTimers());
    directory.start();
    await settle();
    // Row 100 belongs to page 1, which was never asked for: the extra members are not shown as it.
    expect(directory.at(DIRECTORY_PAGE)).toBeUndefined();
    expect(directory.positionOf('g5000')).toBeUndefined();
  });
});

describe('PresenceState', () => {
  it('takes a join storm of 20,000 in linear time', () => {
    const presence = new PresenceState();
    presence.reset(member('me', 'Me'), []);
    const start = performance.now();
    for (const m of guests(20_000)) presence.upsert(m);
    for (let i = 1; i <= 20_000; i += 2) presence.remove(`g${i}`);
    const ms = performance.now() - start;
    expect(presence.members).toHaveLength(10_001);
    expect(presence.get('g2')?.name).toBe('Guest 00002');
    expect(presence.nameOf('g1')).toBe('Guest 00001');
    // O(N) per event was 20,000 × 20,000 copies (seconds); a map write each is milliseconds.
    expect(ms).toBeLessThan(1_500);
  });
});
