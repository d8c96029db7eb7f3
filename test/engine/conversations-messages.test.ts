import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom, tempDir } from '../helpers/room.ts';
import { ask, member, messagesOf, page, say, updatesOf } from './conversations-peers.ts';

afterEach(cleanup);

const history = async (peer: RawPeer, request: Record<string, unknown> = {}): Promise<ChatMessage[]> =>
  (await page(peer, request)).messages;

describe('replies', () => {
  it('a reply carries a quote of the original, live and in pages, and says so once the original is deleted', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const original = await say(ann.peer, 'Can someone check the build? ' + 'x'.repeat(300));
    const reply = await say(bob.peer, 'On it', { replyTo: original });
    await expect.poll(() => messagesOf(ann.peer).length).toBe(1);
    const live = messagesOf(ann.peer)[0]!;
    expect(live.replyTo).toEqual({
      seq: original,
      from: ann.id,
      text: ('Can someone check the build? ' + 'x'.repeat(300)).slice(0, 200),
    });
    await ask(ann.peer, { type: 'delete', target: original });
    const after = (await history(bob.peer)).find((m) => m.seq === reply)!;
    expect(after.replyTo).toEqual({ seq: original, from: ann.id, text: '', deleted: true });
    // A deleted message takes no new replies.
    await expect(say(bob.peer, 'too late', { replyTo: original })).rejects.toThrow('BEACON_ERR_NO_SUCH_MESSAGE');
  });

  it('a reply must answer a message of the same conversation that the sender can see', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const created = await ask(ann.peer, { type: 'channel', op: 'create', name: 'side' });
    const side = created.type === 'done' ? created.channel!.id : '';
    const direct = await say(ann.peer, 'a secret for Bob', { to: bob.id });
    const inGeneral = await say(ann.peer, 'in general');
    // Someone else's direct message, a message of another channel, one that does not exist.
    await expect(say(eve.peer, 'quoting', { replyTo: direct })).rejects.toThrow('BEACON_ERR_NO_SUCH_MESSAGE');
    await expect(say(eve.peer, 'quoting', { replyTo: inGeneral, channel: side })).rejects.toThrow(
      'BEACON_ERR_NO_SUCH_MESSAGE',
    );
    await expect(say(eve.peer, 'quoting', { replyTo: 999_999 })).rejects.toThrow('BEACON_ERR_NO_SUCH_MESSAGE');
    // The one it was meant for may quote it, in their own conversation.
    await say(bob.peer, 'got it', { to: ann.id, replyTo: direct });
    expect(messagesOf(eve.peer).map((m) => m.text)).toEqual(['in general']);
  });
});

describe('edits and deletions', () => {
  it('only the author edits or deletes; everyone sees it live, in pages and in a newcomer welcome', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seq = await say(ann.peer, 'teh build is green');
    const second = await say(ann.peer, 'delete me');
    expect(await ask(bob.peer, { type: 'edit', target: seq, text: 'hijacked' })).toMatchObject({
      type: 'error',
      code: 'BEACON_ERR_NOT_YOURS',
    });
    expect(await ask(bob.peer, { type: 'delete', target: seq })).toMatchObject({ code: 'BEACON_ERR_NOT_YOURS' });
    expect(await ask(ann.peer, { type: 'edit', target: seq, text: '   ' })).toMatchObject({ code: 'BEACON_ERR_EMPTY' });

    const edited = await ask(ann.peer, {
      type: 'edit',
      target: seq,
      text: 'the build is green',
      mentions: [bob.id, bob.id, 'm_nobody'],
    });
    expect(edited.type).toBe('done');
    const deleted = await ask(ann.peer, { type: 'delete', target: second });
    expect(deleted.type).toBe('done');
    await expect.poll(() => updatesOf(bob.peer).map((u) => u.kind)).toEqual(['edit', 'delete']);
    expect(updatesOf(bob.peer)[0]).toMatchObject({
      kind: 'edit',
      target: seq,
      by: ann.id,
      text: 'the build is green',
      mentions: [bob.id],
    });
    // The asker gets the update before its done: its own copy has changed when the request is answered.
    const annFrames = ann.peer.frames.map((f) =>
      f.type === 'update' ? `update ${f.update.seq}` : f.type === 'done' ? `done ${f.seq}` : f.type,
    );
    const doneSeq = edited.type === 'done' ? edited.seq : -1;
    expect(annFrames.indexOf(`update ${doneSeq}`)).toBeLessThan(annFrames.indexOf(`done ${doneSeq}`));

    const [first, gone] = await history(bob.peer);
    expect(first).toMatchObject({ seq, text: 'the build is green', mentions: [bob.id] });
    expect(first!.editedAt).toBeGreaterThan(0);
    expect(gone).toMatchObject({ seq: second, text: '', deleted: true, from: ann.id });
    const cat = await member(server, 'Cat');
    expect(cat.welcome.history.map((m) => [m.text, m.deleted ?? false])).toEqual([
      ['the build is green', false],
      ['', true],
    ]);
    expect(cat.welcome.names).toMatchObject({ [ann.id]: 'Ann', [bob.id]: 'Bob' });
    // A deleted message is gone for good: no edit, no second deletion, no reaction.
    expect(await ask(ann.peer, { type: 'edit', target: second, text: 'back' })).toMatchObject({
      code: 'BEACON_ERR_NO_SUCH_MESSAGE',
    });
    expect(await ask(ann.peer, { type: 'delete', target: second })).toMatchObject({
      code: 'BEACON_ERR_NO_SUCH_MESSAGE',
    });
    expect(await ask(bob.peer, { type: 'react', target: second, emoji: '👍', on: true })).toMatchObject({
      code: 'BEACON_ERR_NO_SUCH_MESSAGE',
    });
  });

  it('what a message said before an edit is not kept, unless the host keeps edit history', async () => {
    for (const keepEditHistory of [false, true]) {
      const dataDir = tempDir();
      const server = await startRoom({ dataDir, keepEditHistory });
      const ann = await member(server, 'Ann');
      const seq = await say(ann.peer, 'first words');
      await ask(ann.peer, { type: 'edit', target: seq, text: 'second words' });
      await server.stop();
      const db = new DatabaseSync(join(dataDir, 'beacon.db'), { readOnly: true });
      const kept = db.prepare('SELECT text FROM edit_history').all();
      db.close();
      expect(kept).toEqual(keepEditHistory ? [{ text: 'first words' }] : []);
    }
  });

  it('an edit of a direct message reaches only its two people', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const seq = await say(ann.peer, 'for Bob only', { to: bob.id });
    await ask(ann.peer, { type: 'edit', target: seq, text: 'for Bob only, edited' });
    await ask(bob.peer, { type: 'react', target: seq, emoji: '👀', on: true });
    await say(ann.peer, 'marker for everyone');
    await expect.poll(() => messagesOf(eve.peer).length).toBe(1);
    expect(updatesOf(eve.peer)).toEqual([]);
    expect(updatesOf(bob.peer).map((u) => u.kind)).toEqual(['edit', 'react']);
    expect(updatesOf(ann.peer).map((u) => u.kind)).toEqual(['edit', 'react']);
  });

  it('guessing the seqs of other people’s direct messages tells nothing: no such message, whatever the request', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const eve = await member(server, 'Eve');
    const direct = await say(ann.peer, 'between us', { to: bob.id });
    const last = await say(ann.peer, 'public');
    for (let target = 0; target <= last + 3; target++) {
      if (target === last) continue;
      for (const frame of [
        { type: 'react', target, emoji: '👍', on: true },
        { type: 'edit', target, text: 'x' },
        { type: 'delete', target },
      ]) {
        expect(await ask(eve.peer, frame), `${frame.type} ${target}`).toMatchObject({
          type: 'error',
          code: 'BEACON_ERR_NO_SUCH_MESSAGE',
        });
      }
    }
    expect(updatesOf(ann.peer)).toEqual([]);
    expect(
      (await history(bob.peer, { conversation: ann.id })).find((m) => m.seq === direct)?.reactions,
    ).toBeUndefined();
  });

  it('a deleted message’s files are no longer served', async () => {
    const dataDir = tempDir();
    const server = await startRoom({ dataDir });
    const ann = await member(server, 'Ann');
    const token = ann.welcome.files!.token;
    const base = `http://127.0.0.1:${server.port}`;
    const body = Buffer.from('the report, version 1');
    const created = await fetch(`${base}/files/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'tus-resumable': '1.0.0',
        'upload-length': String(body.length),
        'upload-metadata': `conversation ${Buffer.from('room').toString('base64')},name ${Buffer.from('report.txt').toString('base64')}`,
        'content-type': 'application/offset+octet-stream',
      },
      body,
    });
    expect(created.status).toBe(201);
    const fileId = created.headers.get('location')!.split('/').pop()!;
    ann.peer.send({ type: 'send', clientId: 'with-file', text: 'the report', files: [fileId] });
    const ack = await ann.peer.frame('ack', (f) => f.clientId === 'with-file');
    const download = () => fetch(`${base}/files/${fileId}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await download()).status).toBe(200);
    expect(await ask(ann.peer, { type: 'delete', target: ack.seq })).toMatchObject({ type: 'done' });
    expect((await download()).status).toBe(404);
    expect((await history(ann.peer))[0]).toMatchObject({ seq: ack.seq, deleted: true });
    expect((await history(ann.peer))[0]!.files).toBeUndefined();
  });
});

describe('reactions', () => {
  it('a reaction toggles on and off, doing it twice changes nothing, and everyone sees who reacted', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seq = await say(ann.peer, 'ship it?');
    const on = await ask(bob.peer, { type: 'react', target: seq, emoji: '👍', on: true });
    const again = await ask(bob.peer, { type: 'react', target: seq, emoji: '👍', on: true });
    expect(on.type).toBe('done');
    expect(again).toMatchObject({ type: 'done', seq });
    await ask(ann.peer, { type: 'react', target: seq, emoji: '👍', on: true });
    await ask(ann.peer, { type: 'react', target: seq, emoji: '👍🏽', on: true });
    expect((await history(ann.peer))[0]!.reactions).toEqual([
      { emoji: '👍', by: [bob.id, ann.id] },
      { emoji: '👍🏽', by: [ann.id] },
    ]);
    await ask(bob.peer, { type: 'react', target: seq, emoji: '👍', on: false });
    expect(await ask(bob.peer, { type: 'react', target: seq, emoji: '👍', on: false })).toMatchObject({
      type: 'done',
      seq,
    });
    await expect
      .poll(() =>
        updatesOf(ann.peer).map((u) =>
          u.kind === 'react' ? `${u.by === bob.id ? 'bob' : 'ann'} ${u.emoji} ${u.on}` : u.kind,
        ),
      )
      .toEqual(['bob 👍 true', 'ann 👍 true', 'ann 👍🏽 true', 'bob 👍 false']);
    expect((await history(bob.peer))[0]!.reactions).toEqual([
      { emoji: '👍', by: [ann.id] },
      { emoji: '👍🏽', by: [ann.id] },
    ]);
  });

  it('a message holds at most 20 different emoji; an emoji already there still takes more people', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const bob = await member(server, 'Bob');
    const seq = await say(ann.peer, 'react away');
    const emoji = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂'];
    expect(emoji).toHaveLength(20);
    for (const e of emoji)
      expect(await ask(ann.peer, { type: 'react', target: seq, emoji: e, on: true })).toMatchObject({ type: 'done' });
    expect(await ask(ann.peer, { type: 'react', target: seq, emoji: '🤗', on: true })).toMatchObject({
      type: 'error',
      code: 'BEACON_ERR_TOO_MANY_REACTIONS',
    });
    expect(await ask(bob.peer, { type: 'react', target: seq, emoji: '😀', on: true })).toMatchObject({ type: 'done' });
  });

  it('hostile emoji strings are refused as malformed and change nothing', async () => {
    const server = await startRoom();
    const ann = await member(server, 'Ann');
    const seq = await say(ann.peer, 'try me');
    // Two at a glance, letters, nothing, a lone joiner or surrogate, markup, a long run, a digit alone.
    const hostile = ['👍👍', 'a', '', '\u200D', '\uD83D', '<script>', '👍'.repeat(17), '1', 'x'.repeat(10_000)];
    // Malformed frames count toward the abuse limit (10 close the connection): nine fit in one.
    expect(hostile.length).toBeLessThan(10);
    for (const emoji of hostile) {
      expect(
        await ask(ann.peer, { type: 'react', target: seq, emoji, on: true }),
        JSON.stringify(emoji.slice(0, 10)),
      ).toMatchObject({
        type: 'error',
        code: 'BEACON_ERR_MALFORMED',
      });
    }
    expect((await history(ann.peer))[0]!.reactions).toBeUndefined();
  });
});
