import { afterEach, describe, expect, it } from 'vitest';
import type { HostFrame } from '../../src/shared/protocol.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
import { ask, member, say, search } from './conversations-peers.ts';

afterEach(cleanup);

type Results = Extract<HostFrame, { type: 'searchResults' }>;
const results = (answer: Awaited<ReturnType<typeof search>>): Results => {
  if (answer.type !== 'searchResults') throw new Error(`search refused: ${answer.code}`);
  return answer;
};
/** Every message an answer shows: the hits and their neighbours. */
const shown = (answer: Results): string[] =>
  answer.hits.flatMap((hit) => [...hit.before, hit.message, ...hit.after]).map((m) => m.text);

describe('search', () => {
  it('never shows a member another pair’s direct messages, as hits or as context', async () => {
    const server = await startRoom();
    expect(server.hasFts5).toBe(true);
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    await say(ann.peer, 'deploy plan in the room');
    await say(ann.peer, 'secret deploy key is hunter2', { to: bob.id });
    await say(bob.peer, 'thanks for the deploy key', { to: ann.id });
    await say(ann.peer, 'deploy is friday');
    const eveSees = results(await search(eve.peer, { query: 'deploy' }));
    expect(eveSees.hits.map((h) => h.message.text)).toEqual(['deploy is friday', 'deploy plan in the room']);
    expect(shown(eveSees).join(' ')).not.toMatch(/hunter2|thanks/);
    // Asking for their conversation by id gives Eve only her own (empty) one with Ann.
    expect(results(await search(eve.peer, { query: 'deploy', conversation: bob.id })).hits).toEqual([]);
    expect(results(await search(eve.peer, { query: 'hunter2' })).hits).toEqual([]);
    const bobSees = results(await search(bob.peer, { query: 'deploy key' }));
    expect(bobSees.hits.map((h) => h.message.text)).toEqual([
      'thanks for the deploy key',
      'secret deploy key is hunter2',
    ]);
    expect(bobSees.names).toMatchObject({ [ann.id]: 'Ann', [bob.id]: 'Bob' });
  });

  it('filters by conversation, person and date, pages with before, and never matches a deleted message', async () => {
    const server = await startRoom({ limits: { searchBurst: 50 } });
    expect(server.hasFts5).toBe(true);
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'builds' });
    const builds = created.type === 'done' ? created.channel!.id : '';
    for (let i = 1; i <= 5; i++) await say(ann.peer, `build ${i} failed`, { channel: builds });
    await say(bob.peer, 'the build is fixed');
    const gone = await say(bob.peer, 'build secret to delete');
    await ask(bob.peer, { type: 'delete', target: gone });

    const all = results(await search(ann.peer, { query: 'buil' }));
    expect(all.hits.map((h) => h.message.text)).toEqual([
      'the build is fixed',
      'build 5 failed',
      'build 4 failed',
      'build 3 failed',
      'build 2 failed',
      'build 1 failed',
    ]);
    const hit = all.hits[1]!;
    expect(hit.highlights).toEqual([[0, 5]]);
    expect(hit.message.channel).toBe(builds);
    expect(hit.before.map((m) => m.text)).toEqual(['build 3 failed', 'build 4 failed']);
    expect(hit.after).toEqual([]);

    expect(
      results(await search(ann.peer, { query: 'build', conversation: 'room' })).hits.map((h) => h.message.text),
    ).toEqual(['the build is fixed']);
    expect(results(await search(ann.peer, { query: 'build', from: bob.id })).hits).toHaveLength(1);
    const first = results(await search(ann.peer, { query: 'build', conversation: builds, limit: 2 }));
    expect(first.hasMore).toBe(true);
    const next = results(
      await search(ann.peer, {
        query: 'build',
        conversation: builds,
        limit: 2,
        before: first.hits.at(-1)!.message.seq,
      }),
    );
    expect(next.hits.map((h) => h.message.text)).toEqual(['build 3 failed', 'build 2 failed']);
    const future = Date.now() + 60_000;
    expect(results(await search(ann.peer, { query: 'build', since: future })).hits).toEqual([]);
    expect(results(await search(ann.peer, { query: 'build', until: future })).hits).toHaveLength(6);
  });

  it('a client without channels finds only the default channel and its own direct messages', async () => {
    const server = await startRoom();
    expect(server.hasFts5).toBe(true);
    const ann = await member(server, 'Ann');
    const old = await member(server, 'Old', { channels: false });
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'side' });
    const side = created.type === 'done' ? created.channel!.id : '';
    await say(ann.peer, 'lunch in the side channel', { channel: side });
    await say(ann.peer, 'lunch for everyone');
    await say(ann.peer, 'lunch for you', { to: old.id });
    expect(results(await search(old.peer, { query: 'lunch' })).hits.map((h) => h.message.text)).toEqual([
      'lunch for you',
      'lunch for everyone',
    ]);
    expect(results(await search(old.peer, { query: 'lunch', conversation: side })).hits).toEqual([]);
  });

  it('a search flood is answered with rate limited errors carrying its ref, and the host goes on', async () => {
    const server = await startRoom();
    expect(server.hasFts5).toBe(true);
    const ann = await member(server, 'Ann');
    await say(ann.peer, 'needle');
    const answers = await Promise.all(Array.from({ length: 8 }, () => search(ann.peer, { query: 'needle' })));
    const limited = answers.filter((a) => a.type === 'error');
    expect(answers.filter((a) => a.type === 'searchResults').length).toBe(5);
    expect(limited.length).toBe(3);
    expect(limited[0]).toMatchObject({ code: 'BEACON_ERR_RATE_LIMITED' });
    expect((limited[0] as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    // Messages have a bucket of their own: searching never costs a message.
    expect(await say(ann.peer, 'still talking')).toBeGreaterThan(0);
    // Nonsense queries are answered with nothing, not an error.
    const wait = (limited.at(-1) as { retryAfterMs: number }).retryAfterMs;
    await new Promise<void>((resolve) => setTimeout(resolve, wait)); // the bucket refills with time, nothing to await
    expect(results(await search(ann.peer, { query: '"*" OR NEAR(' })).hits).toEqual([]);
  });
});
