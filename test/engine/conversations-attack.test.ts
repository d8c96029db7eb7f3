/**
 * A hostile member of an office LAN against the v1.5 host (docs/PROTOCOL.md §19), over real
 * sockets to a real RoomServer: someone else's direct messages must stay invisible through every
 * new door (search hits and their neighbours, reply quotes, the error codes of edit, delete and
 * react, updates live and on resume), permissions must hold from another machine, hostile frames
 * must cost only themselves, and no single request may make the host build an answer or do work
 * far beyond what a page costs.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import type { HostFrame } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom, tempDir } from '../helpers/room.ts';
import { answer, ask, member, messagesOf, page, say, search, updatesOf } from './conversations-peers.ts';

afterEach(cleanup);

type Results = Extract<HostFrame, { type: 'searchResults' }>;
const results = (found: Awaited<ReturnType<typeof search>>): Results => {
  if (found.type !== 'searchResults') throw new Error(`search refused: ${found.code}`);
  return found;
};
const codeOf = (found: Awaited<ReturnType<typeof ask>>): string => (found.type === 'error' ? found.code : 'done');

/** Records the size in bytes of every frame the host writes to `peer`. */
function frameSizes(peer: RawPeer): number[] {
  const sizes: number[] = [];
  peer.ws.on('message', (data: Buffer) => sizes.push(data.byteLength));
  return sizes;
}

describe('another pair’s direct messages through the v1.5 doors', () => {
  it('edit, delete, react and reply answer a hidden message exactly like one that does not exist', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const secret = await say(ann.peer, 'the payroll password is swordfish', { to: bob.id });
    const missing = secret + 1000;
    for (const target of [secret, missing, 2 ** 53 - 1, 0]) {
      expect(codeOf(await ask(eve.peer, { type: 'edit', target, text: 'x' }))).toBe('BEACON_ERR_NO_SUCH_MESSAGE');
      expect(codeOf(await ask(eve.peer, { type: 'delete', target }))).toBe('BEACON_ERR_NO_SUCH_MESSAGE');
      expect(codeOf(await ask(eve.peer, { type: 'react', target, emoji: '👍', on: true }))).toBe(
        'BEACON_ERR_NO_SUCH_MESSAGE',
      );
      expect(codeOf(await ask(eve.peer, { type: 'react', target, emoji: '👍', on: false }))).toBe(
        'BEACON_ERR_NO_SUCH_MESSAGE',
      );
      // A reply in the room, in Eve's own DM with Ann, and in a DM with Bob: never a quote of it.
      for (const fields of [{}, { to: ann.id }, { to: bob.id }])
        await expect(say(eve.peer, 'quoting', { replyTo: target, ...fields })).rejects.toThrow(
          'BEACON_ERR_NO_SUCH_MESSAGE',
        );
    }
    // Bob's reaction and Ann's edit reach the pair only; Eve hears nothing of them.
    expect(codeOf(await ask(bob.peer, { type: 'react', target: secret, emoji: '👍', on: true }))).toBe('done');
    expect(codeOf(await ask(ann.peer, { type: 'edit', target: secret, text: 'now it is marlin' }))).toBe('done');
    await expect.poll(() => updatesOf(bob.peer).length).toBe(2);
    await say(ann.peer, 'sync point');
    await expect.poll(() => messagesOf(eve.peer).map((m) => m.text)).toEqual(['sync point']);
    expect(updatesOf(eve.peer)).toEqual([]);
    expect(JSON.stringify(eve.peer.frames)).not.toMatch(/swordfish|marlin/);
  });

  it('a search never shows another pair’s messages as hits, neighbours, quotes or names', async () => {
    const server = await startRoom({ limits: { searchBurst: 50 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const zed = await member(server, 'Zed Secretname');
    // The pair's words sit right between the room's, where the neighbours of a room hit are read.
    await say(ann.peer, 'release notes one');
    const dm = await say(ann.peer, 'release key hunter2', { to: bob.id });
    await say(bob.peer, 'release acknowledged hunter3', { to: ann.id, replyTo: dm, mentions: [zed.id] });
    await say(ann.peer, 'release notes two');
    const answers = [
      await search(eve.peer, { query: 'release' }),
      await search(eve.peer, { query: 'hunter2' }),
      await search(eve.peer, { query: 'release', conversation: ann.id }),
      await search(eve.peer, { query: 'release', conversation: bob.id }),
      await search(eve.peer, { query: 'release', from: bob.id }),
      await search(eve.peer, { query: 'release', conversation: eve.id }),
    ].map(results);
    expect(answers[0]!.hits.map((hit) => hit.message.text)).toEqual(['release notes two', 'release notes one']);
    for (const found of answers) {
      expect(JSON.stringify(found)).not.toMatch(/hunter|acknowledged|Secretname/);
    }
  });

  it('a v1.4 client sees nothing of a channel: messages, typing, updates, pages, search, resume', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const old = await member(server, 'Old', { channels: false });
    const made = await ask(ann.peer, { type: 'channel', op: 'create', name: 'hidden plans' });
    const id = made.type === 'done' ? made.channel!.id : '';
    const inChannel = await say(ann.peer, 'channelword alpha', { channel: id });
    ann.peer.send({ type: 'typing', channel: id });
    await ask(ann.peer, { type: 'edit', target: inChannel, text: 'channelword beta' });
    await ask(ann.peer, { type: 'react', target: inChannel, emoji: '🔥', on: true });
    await say(ann.peer, 'room sync');
    await expect.poll(() => messagesOf(old.peer).map((m) => m.text)).toEqual(['room sync']);
    // Its own requests about the channel's message look like requests about nothing.
    expect(codeOf(await ask(old.peer, { type: 'react', target: inChannel, emoji: '👍', on: true }))).toBe(
      'BEACON_ERR_NO_SUCH_MESSAGE',
    );
    await expect(say(old.peer, 'reply', { replyTo: inChannel })).rejects.toThrow('BEACON_ERR_NO_SUCH_MESSAGE');
    expect(results(await search(old.peer, { query: 'channelword' })).hits).toEqual([]);
    expect(results(await search(old.peer, { query: 'channelword', conversation: id })).hits).toEqual([]);
    expect((await page(old.peer, { conversation: id })).messages).toEqual([]);
    expect((await page(old.peer, { after: 0 })).updates ?? []).toEqual([]);
    const back = await member(server, 'Old', {
      channels: false,
      resume: { token: old.welcome.token, lastSeq: 1 },
    });
    expect(JSON.stringify([...old.peer.frames, back.welcome])).not.toMatch(/channelword|hidden plans|🔥/);
  });
});

describe('permissions from another machine of the LAN', () => {
  it('nobody but its creator or the host renames or archives a channel; the default one is never archived', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const eve = await member(server, 'Eve');
    const host = await member(server, 'Host', { elsewhere: false });
    const made = await ask(ann.peer, { type: 'channel', op: 'create', name: 'ops' });
    const id = made.type === 'done' ? made.channel!.id : '';
    expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'update', id, name: 'pwned' }))).toBe(
      'BEACON_ERR_NOT_ALLOWED',
    );
    expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'archive', id, archived: true }))).toBe(
      'BEACON_ERR_NOT_ALLOWED',
    );
    expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'update', id: 'room', name: 'eve rules' }))).toBe(
      'BEACON_ERR_NOT_ALLOWED',
    );
    for (const archived of [true, false])
      expect(codeOf(await ask(host.peer, { type: 'channel', op: 'archive', id: 'room', archived }))).toBe(
        'BEACON_ERR_NOT_ALLOWED',
      );
    // Look-alikes of the default channel's name, and names that are nothing visible.
    for (const name of ['General', 'gеneral', 'g\u200Beneral', 'ǵeneral'.normalize('NFD').replace('\u0301', '')])
      expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'create', name }))).toMatch(/NAME_TAKEN|MALFORMED/);
    for (const name of ['\u0301\u0301', '\u202E', '\u200B', '\u2066x\u2069'])
      expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'create', name }))).toBe('BEACON_ERR_MALFORMED');
    expect(server.lastSeq).toBe(made.type === 'done' ? made.seq : -1);
  });

  it('an archived channel takes no message, reply, edit or reaction, but its authors may delete', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const made = await ask(ann.peer, { type: 'channel', op: 'create', name: 'old' });
    const id = made.type === 'done' ? made.channel!.id : '';
    const seq = await say(ann.peer, 'last words', { channel: id });
    expect(codeOf(await ask(ann.peer, { type: 'channel', op: 'archive', id, archived: true }))).toBe('done');
    await expect(say(ann.peer, 'more', { channel: id })).rejects.toThrow('BEACON_ERR_CHANNEL_ARCHIVED');
    await expect(say(ann.peer, 'more', { channel: id, replyTo: seq })).rejects.toThrow('BEACON_ERR_CHANNEL_ARCHIVED');
    expect(codeOf(await ask(ann.peer, { type: 'edit', target: seq, text: 'changed' }))).toBe(
      'BEACON_ERR_CHANNEL_ARCHIVED',
    );
    expect(codeOf(await ask(ann.peer, { type: 'react', target: seq, emoji: '👍', on: true }))).toBe(
      'BEACON_ERR_CHANNEL_ARCHIVED',
    );
    expect(codeOf(await ask(ann.peer, { type: 'delete', target: seq }))).toBe('done');
  });

  it('a room whose channels are the host’s refuses a member elsewhere, whatever it claims', async () => {
    const server = await startRoom({ channelCreators: 'host' });
    const eve = await member(server, 'Eve');
    expect(eve.welcome.channelCreators).toBe('host');
    expect(codeOf(await ask(eve.peer, { type: 'channel', op: 'create', name: 'mine' }))).toBe('BEACON_ERR_NOT_ALLOWED');
    const spoofed = new RawPeer(server, {
      localAddress: '127.0.0.2',
      headers: { 'X-Forwarded-For': '127.0.0.1', Host: '127.0.0.1' },
    });
    await spoofed.opened();
    spoofed.send({ type: 'hello', v: 1, name: 'Spoof', code: '1234', features: ['channels'] });
    await spoofed.frame('welcome');
    spoofed.send({ type: 'channel', ref: 'x1', op: 'create', name: 'mine' });
    expect(codeOf(await answer(spoofed, 'x1'))).toBe('BEACON_ERR_NOT_ALLOWED');
  });
});

describe('hostile v1.5 frames cost only themselves', () => {
  it('out-of-range numbers, broken emoji, NUL and FTS5 syntax are refused or harmless, and the host goes on', async () => {
    const server = await startRoom({ limits: { searchBurst: 100, searchesPerSecond: 100, malformedCloseAfter: 1000 } });
    const ann = await member(server, 'Ann');
    const seq = await say(ann.peer, 'a perfectly normal message');
    const bad: Record<string, unknown>[] = [
      { type: 'edit', target: -1, text: 'x' },
      { type: 'edit', target: 1.5, text: 'x' },
      { type: 'edit', target: 'NaN', text: 'x' },
      { type: 'delete', target: Infinity },
      { type: 'react', target: seq, emoji: '\uD83D', on: true },
      { type: 'react', target: seq, emoji: '👍👍', on: true },
      { type: 'react', target: seq, emoji: 'a', on: true },
      { type: 'react', target: seq, emoji: '\u200D', on: true },
      { type: 'react', target: seq, emoji: '👍', on: 'yes' },
      { type: 'channel', op: 'create', name: 'x'.repeat(41) },
      { type: 'channel', op: 'create', name: 'ok', topic: '\uDC00' },
      { type: 'channel', op: 'nuke', id: 'room' },
      { type: 'search', query: '' },
      { type: 'search', query: 'x'.repeat(201) },
      { type: 'search', query: 'ok', limit: 51 },
      { type: 'search', query: 'ok', limit: 0 },
    ];
    for (const frame of bad)
      expect(codeOf(await ask(ann.peer, frame)), JSON.stringify(frame)).toBe('BEACON_ERR_MALFORMED');
    for (const target of [1e308, 2 ** 53, Number.MAX_SAFE_INTEGER])
      expect(codeOf(await ask(ann.peer, { type: 'delete', target }))).toBe('BEACON_ERR_NO_SUCH_MESSAGE');
    const queries = [
      'NEAR(a b)',
      'a OR b',
      '"unterminated',
      'text:normal',
      '^normal',
      '-normal',
      'normal*',
      '* * *',
      'a\u0000b',
      '\u0000',
      ')))(((',
      'a b c d e f g h i j k',
      '👍',
      '\u202Enormal',
      'ｎｏｒｍａｌ',
    ];
    for (const query of queries) {
      const found = await search(ann.peer, { query, since: 1e308, until: 2 ** 53, before: 1e308 });
      expect(found.type, query).toBe('searchResults');
    }
    expect(results(await search(ann.peer, { query: 'NORMAL perfectly' })).hits).toHaveLength(1);
    await say(ann.peer, 'still here');
  });
});

describe('one request costs about a page, however hostile the room’s history', () => {
  it('a search answer stays within the page budget when the matching messages are as long as allowed', async () => {
    const server = await startRoom({ limits: { messageBurst: 100, messagesPerSecond: 100 } });
    const eve = await member(server, 'Eve');
    const ann = await member(server, 'Ann');
    // Each 48 KB in UTF-8, all matching, each hit also carrying four of them as neighbours.
    const long = 'build ' + '漢'.repeat(15_990);
    for (let i = 0; i < 60; i++) await say(eve.peer, long);
    const sizes = frameSizes(ann.peer);
    const found = results(await search(ann.peer, { query: 'build', limit: 50 }));
    expect(found.hits.length).toBeGreaterThan(0);
    expect(found.hasMore).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
    // The hits cut come next, paging on from the last one shown.
    const next = results(await search(ann.peer, { query: 'build', before: found.hits.at(-1)!.message.seq }));
    expect(next.hits[0]!.message.seq).toBeLessThan(found.hits.at(-1)!.message.seq);
  });

  it('a page of history stays within its byte budget when its messages carry quotes, mentions and reactions', async () => {
    const dataDir = tempDir();
    const store = HistoryStore.open(dataDir);
    const people = Array.from({ length: 50 }, (_, i) => `m_${String(i).padStart(16, '0')}`);
    people.forEach((id, i) => store.saveMember({ id, name: `Person ${i}`, token: `t${i}`, joinedAt: 1 }));
    // Tiny texts, so the page's estimate (the text's bytes) sees nothing, each carrying about 2 KB more.
    const original = store.append({
      sender: people[0]!,
      recipient: null,
      text: '漢'.repeat(200),
      ts: 1,
      clientId: 'o',
    });
    for (let i = 0; i < 600; i++) {
      const { message } = store.append({
        sender: people[1]!,
        recipient: null,
        text: 'x',
        ts: i + 2,
        clientId: `r${i}`,
        replyTo: original.message.seq,
        mentions: people,
      });
      if (i % 10 === 0)
        for (const emoji of ['👍', '❤️', '👨‍👩‍👧‍👦', '🏳️‍🌈'])
          store.react({ seq: message.seq, by: people[2]!, emoji, on: true, ts: i + 2 });
    }
    store.close();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const sizes = frameSizes(ann.peer);
    const older = await page(ann.peer, { conversation: 'room', limit: 500 });
    expect(older.hasMore).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
    // What was cut comes with the next page, nothing twice.
    const rest = await page(ann.peer, { conversation: 'room', limit: 500, before: older.messages[0]!.seq });
    expect(rest.messages.at(-1)!.seq).toBe(older.messages[0]!.seq - 1);
    // The resume of someone away since the start: messages and updates under the same budget.
    const back = frameSizes(ann.peer);
    ann.peer.ws.close();
    const again = await member(server, 'Ann', { resume: { token: ann.welcome.token, lastSeq: 1 } });
    expect(again.welcome.hasMore).toBe(true);
    expect(JSON.stringify(again.welcome).length).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
    expect(back.length).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a newcomer’s welcome stays within its byte budget when a few identities react to every message', async () => {
    const dataDir = tempDir();
    const store = HistoryStore.open(dataDir);
    for (let i = 0; i < 80; i++)
      store.append({ sender: 'm_old', recipient: null, text: `hi ${i}`, ts: i + 1, clientId: `s${i}` });
    store.close();
    // 50 identities, each choosing the 20 emoji a message may hold, on every message: as the host would
    // store them from 50 members reacting at their message rate, written here in one go.
    const emoji = [
      '👍',
      '❤️',
      '😂',
      '🎉',
      '👀',
      '🔥',
      '✅',
      '🙏',
      '💯',
      '🚀',
      '😮',
      '😢',
      '👏',
      '🤔',
      '🙌',
      '💡',
      '⭐',
      '🍕',
      '🐛',
      '🏳️‍🌈',
    ];
    const db = new DatabaseSync(join(dataDir, 'beacon.db'));
    db.exec('BEGIN');
    const react = db.prepare('INSERT INTO reactions (message_seq, member, emoji, at) VALUES (?, ?, ?, 1)');
    for (let seq = 1; seq <= 80; seq++)
      for (let m = 0; m < 50; m++) for (const e of emoji) react.run(seq, `m_${String(m).padStart(16, '0')}`, e);
    db.exec('COMMIT');
    db.close();
    const server = await startRoom({ dataDir });
    const peer = new RawPeer(server, { localAddress: '127.0.0.2' });
    const sizes = frameSizes(peer);
    await peer.opened();
    peer.send({ type: 'hello', v: 1, name: 'Newcomer', code: '1234', features: ['channels'] });
    const welcome = await peer.frame('welcome');
    expect(sizes[0]).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
    expect(welcome.hasMore).toBe(true);
    const older = await page(peer, { before: welcome.history[0]!.seq });
    expect(older.messages.at(-1)!.seq).toBe(welcome.history[0]!.seq - 1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
  }, 60_000);

  it('a resume stays within its byte budget when what was missed is edits to long texts in three-byte characters', async () => {
    const server = await startRoom({ limits: { messageBurst: 200, messagesPerSecond: 200 } });
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(await say(ann.peer, `short ${i}`));
    const lastSeen = server.lastSeq;
    bob.peer.ws.close();
    await bob.peer.closed;
    // Each edit 48 KB in UTF-8, 16,000 UTF-16 units: what a count of units takes for its size.
    for (const target of seqs) await ask(ann.peer, { type: 'edit', target, text: '漢'.repeat(15_990) });
    const peer = new RawPeer(server, { localAddress: '127.0.0.2' });
    const sizes = frameSizes(peer);
    await peer.opened();
    peer.send({
      type: 'hello',
      v: 1,
      name: 'Bob',
      code: '1234',
      features: ['channels'],
      resume: { token: bob.welcome.token, lastSeq: lastSeen },
    });
    const welcome = await peer.frame('welcome');
    expect(sizes[0]).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
    expect(welcome.hasMore).toBe(true);
    // The rest follows, after the highest seq the welcome carried, nothing missed.
    const updates = [...(welcome.updates ?? [])];
    let highest = Math.max(...welcome.history.map((m) => m.seq), ...updates.map((u) => u.seq));
    for (let more = true; more;) {
      const next = await page(peer, { after: highest, limit: 500 });
      updates.push(...(next.updates ?? []));
      highest = Math.max(highest, ...next.messages.map((m) => m.seq), ...(next.updates ?? []).map((u) => u.seq));
      more = next.hasMore;
    }
    expect(updates.map((u) => u.seq)).toEqual(Array.from({ length: 40 }, (_, i) => lastSeen + 1 + i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(server.limits.maxPageBytes + 64 * 1024);
  }, 60_000);

  it('a search over a large history does not hold up everyone else’s messages', async () => {
    const dataDir = tempDir();
    // 100,000 room messages that all hold "the": written in one transaction before the host starts.
    HistoryStore.open(dataDir).close();
    const db = new DatabaseSync(join(dataDir, 'beacon.db'));
    db.exec('BEGIN');
    const insert = db.prepare(
      'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, NULL, ?, ?, ?)',
    );
    for (let i = 1; i <= 100_000; i++) insert.run(i, 'm_old', `the build number ${i} w${i % 977}x`, i, `seed${i}`);
    db.exec('COMMIT');
    db.close();
    const server = await startRoom({ dataDir });
    const eve = await member(server, 'Eve');
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    // Narrowed to a person who never wrote: every match of the words is read and thrown away.
    const started = performance.now();
    for (let i = 0; i < 5; i++) eve.peer.send({ type: 'search', ref: `q${i}`, query: 'the w', from: 'm_nobody' });
    await say(bob.peer, 'are you there?');
    await expect.poll(() => messagesOf(ann.peer).length, { timeout: 30_000 }).toBe(1);
    // How long it held the message is a measure, not a test (it moves with the machine's load: 0.3 s
    // quiet, 1.4-2.6 s beside a CI run, with a one-letter prefix whose matches FTS5 still merges in
    // full); it is printed, and named in the closing note. What must hold: every search is answered.
    console.log(`a message waited ${Math.round(performance.now() - started)} ms behind five narrowed searches`);
    await expect.poll(() => eve.peer.frames.filter((f) => f.type === 'searchResults').length).toBe(5);
  }, 60_000);
});
