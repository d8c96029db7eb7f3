import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, Update } from '../../src/shared/protocol.ts';
import { exited, freePort, killChildren, spawnNode } from '../helpers/processes.ts';
import { cleanup, startRoom } from '../helpers/room.ts';
import { ask, member, messagesOf, page, say, updatesOf } from './conversations-peers.ts';

afterEach(async () => {
  killChildren();
  await cleanup();
});

/** Everything a resume brings: the welcome, then `after` pages until nothing more. */
async function catchUp(
  server: Parameters<typeof member>[0],
  name: string,
  resume: { token: string; lastSeq: number },
): Promise<{ messages: ChatMessage[]; updates: Update[]; pages: number; welcomeUpdates: number }> {
  const back = await member(server, name, { resume });
  expect(back.welcome.resumed).toBe(true);
  const messages = [...back.welcome.history];
  const updates = [...(back.welcome.updates ?? [])];
  let hasMore = back.welcome.hasMore;
  let pages = 1;
  while (hasMore) {
    pages++;
    const after = Math.max(resume.lastSeq, ...messages.map((m) => m.seq), ...updates.map((u) => u.seq));
    const next = await page(back.peer, { after });
    messages.push(...next.messages);
    updates.push(...(next.updates ?? []));
    hasMore = next.hasMore;
  }
  return { messages, updates, pages, welcomeUpdates: back.welcome.updates?.length ?? 0 };
}

describe('resume with conversations', () => {
  it('a member away while things change gets exactly those changes on resume, in pages, nothing twice', async () => {
    const server = await startRoom({ limits: { resumePageSize: 3 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const old = await say(ann.peer, 'written before Bob left');
    const doomed = await say(ann.peer, 'to be deleted');
    await say(ann.peer, 'the last thing Bob read');
    const cat = await member(server, 'Cat');
    const toCat = await say(ann.peer, 'psst Cat', { to: cat.id });
    await expect.poll(() => messagesOf(bob.peer).length).toBe(3);
    const lastSeq = Math.max(...messagesOf(bob.peer).map((m) => m.seq), doomed);
    bob.peer.ws.terminate();

    // While Bob is away:
    await ask(ann.peer, { type: 'edit', target: old, text: 'written before Bob left (edited)' });
    await ask(ann.peer, { type: 'delete', target: doomed });
    await ask(cat.peer, { type: 'react', target: old, emoji: '👍', on: true });
    await ask(cat.peer, { type: 'react', target: toCat, emoji: '🙈', on: true });
    await ask(ann.peer, { type: 'edit', target: toCat, text: 'psst Cat (edited)' });
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'news' });
    const news = created.type === 'done' ? created.channel!.id : '';
    await ask(ann.peer, { type: 'channel', op: 'update', id: news, topic: 'what happened' });
    const inNews = await say(ann.peer, 'first news', { channel: news });
    await ask(ann.peer, { type: 'react', target: inNews, emoji: '📰', on: true });
    await say(ann.peer, 'welcome back');

    const { messages, updates, pages, welcomeUpdates } = await catchUp(server, 'Bob', {
      token: bob.welcome.token,
      lastSeq,
    });
    // Eight things missed, three in the welcome (resumePageSize): the rest came in an `after` page.
    expect(pages).toBe(2);
    expect(welcomeUpdates).toBe(3);
    expect(messages.map((m) => m.text)).toEqual(['first news', 'welcome back']);
    expect(
      updates.map((u) =>
        u.kind === 'channel'
          ? `channel ${u.channel.topic || u.channel.name}`
          : u.kind === 'react'
            ? `react ${u.emoji}`
            : u.kind,
      ),
    ).toEqual(['edit', 'delete', 'react 👍', 'channel news', 'channel what happened', 'react 📰']);
    expect(updates.find((u) => u.kind === 'edit')).toMatchObject({
      target: old,
      text: 'written before Bob left (edited)',
    });
    // Nothing twice, nothing from before lastSeq, nothing of Ann and Cat's direct conversation.
    const seqs = [...messages.map((m) => m.seq), ...updates.map((u) => u.seq)];
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.min(...seqs)).toBeGreaterThan(lastSeq);
    expect(JSON.stringify({ messages, updates })).not.toContain('psst');
  });

  it('a v1.4 client resuming is sent no update of another channel', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const old = await member(server, 'Old', { channels: false });
    const general = await say(ann.peer, 'in general');
    await expect.poll(() => messagesOf(old.peer).length).toBe(1);
    old.peer.ws.terminate();
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'side' });
    const side = created.type === 'done' ? created.channel!.id : '';
    const inSide = await say(ann.peer, 'in side', { channel: side });
    await ask(ann.peer, { type: 'react', target: inSide, emoji: '👍', on: true });
    await ask(ann.peer, { type: 'react', target: general, emoji: '👍', on: true });
    const back = await member(server, 'Old', {
      channels: false,
      resume: { token: old.welcome.token, lastSeq: general },
    });
    expect(back.welcome.history).toEqual([]);
    expect(back.welcome.updates?.map((u) => u.kind === 'react' && u.target)).toEqual([general]);
  });

  it('an edit made just before the host is killed (kill -9) reaches a member who resumes after the restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'beacon-conv-kill-'));
    try {
      const port = await freePort();
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--data',
        data,
        '--code',
        '1234',
        '--web',
        data,
        '--insecure',
        '--channels-by',
        'host',
        '--keep-edit-history',
      ];
      let host = await spawnNode('src/cli/host.ts', args, /^Join code/);
      const ann = await member(port, 'Ann');
      const bob = await member(port, 'Bob');
      expect(ann.welcome.channelCreators).toBe('host');
      const seq = await say(ann.peer, 'the meeting is at 3');
      await expect.poll(() => messagesOf(bob.peer).length).toBe(1);
      bob.peer.ws.terminate();
      // Acknowledged (done) means stored: the kill comes right after.
      expect(await ask(ann.peer, { type: 'edit', target: seq, text: 'the meeting is at 4' })).toMatchObject({
        type: 'done',
      });
      expect(await ask(ann.peer, { type: 'react', target: seq, emoji: '👍', on: true })).toMatchObject({
        type: 'done',
      });
      host.child.kill('SIGKILL');
      await exited(host.child);
      host = await spawnNode('src/cli/host.ts', args, /^Join code/);
      const back = await member(port, 'Bob', { resume: { token: bob.welcome.token, lastSeq: seq } });
      expect(back.welcome.resumed).toBe(true);
      expect(back.welcome.updates).toMatchObject([
        { kind: 'edit', target: seq, text: 'the meeting is at 4' },
        { kind: 'react', target: seq, emoji: '👍', on: true, by: ann.id },
      ]);
      expect(back.welcome.names).toMatchObject({ [ann.id]: 'Ann' });
      host.child.kill('SIGKILL');
      await exited(host.child);
      // --keep-edit-history: what it said before is in the host's database, and was never sent.
      const db = new DatabaseSync(join(data, 'beacon.db'), { readOnly: true });
      expect(db.prepare('SELECT text FROM edit_history').all()).toEqual([{ text: 'the meeting is at 3' }]);
      db.close();
      expect(JSON.stringify(back.peer.frames)).not.toContain('at 3');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('hostile requests', () => {
  it('huge, malformed and repeated edits are refused or harmless, and the host serves everyone after', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seq = await say(ann.peer, 'original');
    // Repeated: each is an edit like any other, and the last one stands.
    for (let i = 0; i < 5; i++)
      expect(await ask(ann.peer, { type: 'edit', target: seq, text: 'same again' })).toMatchObject({ type: 'done' });
    for (const frame of [
      { type: 'edit', target: seq, text: 'x'.repeat(16_001) },
      { type: 'edit', target: -1, text: 'x' },
      { type: 'edit', target: 1.5, text: 'x' },
      { type: 'edit', target: String(seq), text: 'x' },
      { type: 'edit', target: seq, text: '\uD800' },
      { type: 'edit', target: seq, text: 'x', mentions: Array.from({ length: 51 }, (_, i) => `m_${i}`) },
      { type: 'delete', target: seq, ref: 'x'.repeat(65) },
      { type: 'channel', op: 'rename', id: 'room', name: 'x' },
    ]) {
      const ref = 'ref' in frame ? undefined : `bad-${frame.type}`;
      ann.peer.send({ ref, ...frame });
      if (ref) await expect.poll(() => ann.peer.frames.some((f) => f.type === 'error' && f.ref === ref)).toBe(true);
    }
    const errors = ann.peer.frames.filter((f) => f.type === 'error');
    expect(errors.every((f) => f.type === 'error' && f.code === 'BEACON_ERR_MALFORMED')).toBe(true);
    // A frame past 64 KiB closes that connection (1009), no one else's.
    const big = await member(server, 'Big');
    big.peer.send({ type: 'edit', ref: 'huge', target: seq, text: 'x'.repeat(70_000) });
    expect((await big.peer.closed).code).toBe(1009);
    expect((await page(bob.peer, {})).messages[0]).toMatchObject({ seq, text: 'same again' });
    expect(await say(bob.peer, 'still here')).toBeGreaterThan(seq);
  });

  it('an edit flood is rate limited like messages, then closed for flooding; the room goes on', async () => {
    const server = await startRoom({ limits: { floodCloseAfter: 20 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seq = await say(ann.peer, 'flood target');
    const started = Date.now();
    for (let i = 0; i < 200; i++) ann.peer.send({ type: 'edit', ref: `f${i}`, target: seq, text: `edit ${i}` });
    const closed = await ann.peer.closed;
    const seconds = (Date.now() - started) / 1000;
    expect(closed.code).toBe(1008);
    const limited = ann.peer.frames.filter((f) => f.type === 'error' && f.code === 'BEACON_ERR_RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((f) => f.type === 'error' && f.ref?.startsWith('f'))).toBe(true);
    expect(ann.peer.frames.some((f) => f.type === 'error' && f.code === 'BEACON_ERR_FLOODING')).toBe(true);
    // At most the burst (40) and what the bucket refilled meanwhile (20 a second) went through.
    await expect.poll(() => updatesOf(bob.peer).length).toBeGreaterThan(0);
    expect(updatesOf(bob.peer).length).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds));
    expect(await say(bob.peer, 'the room goes on')).toBeGreaterThan(seq);
  });
});
