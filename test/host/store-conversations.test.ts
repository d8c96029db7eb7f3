/**
 * What the store keeps of protocol v1.5's conversations (docs/PROTOCOL.md §19): channels, replies,
 * edits, deletions, reactions, and the updates that carry them to a member catching up. Real
 * SQLite files, reopened where a restart matters.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileRef, Update } from '../../src/shared/protocol.ts';
import { HistoryStore, MAX_EMOJI_PER_MESSAGE, type NewMessage } from '../../src/host/store/history-store.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

const ANN = 'm_ann';
const BOB = 'm_bob';
const CAT = 'm_cat';
let clock = 1_000;
let clientIds = 0;

function send(store: HistoryStore, sender: string, text: string, extra: Partial<NewMessage> = {}): number {
  return store.append({ sender, recipient: null, text, ts: clock++, clientId: `c${clientIds++}`, ...extra }).message
    .seq;
}

function openStore(options = {}): { store: HistoryStore; dir: string } {
  const dir = tempDir();
  return { store: HistoryStore.open(dir, options), dir };
}

describe('one sequence for messages and updates', () => {
  it('an edit, a reaction and a channel take the next seq after the last message, and a message after them the next again', () => {
    const { store, dir } = openStore();
    const first = send(store, ANN, 'hello');
    const edit = store.editMessage({ seq: first, by: ANN, text: 'hello all', ts: clock++ });
    const react = store.react({ seq: first, by: BOB, emoji: '👍', on: true, ts: clock++ })!;
    const channel = store.createChannel({ name: 'release', by: ANN, ts: clock++ });
    const next = send(store, BOB, 'after');
    expect([first, edit.seq, react.seq, channel.seq, next]).toEqual([1, 2, 3, 4, 5]);
    expect(store.lastSeq).toBe(5);
    store.close();
    // After a restart numbering goes on after the highest of either kind, even when it is an update.
    const again = HistoryStore.open(dir);
    expect(again.lastSeq).toBe(5);
    again.react({ seq: first, by: CAT, emoji: '🎉', on: true, ts: clock++ });
    again.close();
    const third = HistoryStore.open(dir);
    expect(third.lastSeq).toBe(6);
    expect(send(third, ANN, 'seven')).toBe(7);
    third.close();
  });
});

describe('edits', () => {
  it('a page shows the edited text, its mentions and when, and the update says the same', () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'draft', { mentions: [BOB] });
    const update = store.editMessage({ seq, by: ANN, text: 'final @Cat', mentions: [CAT], ts: 5_000 });
    expect(update).toEqual({
      kind: 'edit',
      seq: 2,
      ts: 5_000,
      by: ANN,
      target: seq,
      text: 'final @Cat',
      mentions: [CAT],
    });
    expect(store.page(BOB, 'room', {}, 10).messages).toEqual([
      expect.objectContaining({ seq, text: 'final @Cat', mentions: [CAT], editedAt: 5_000 }),
    ]);
    store.close();
  });

  it('only the author may edit, and not a deleted message nor one in an archived channel', () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'mine');
    expect(() => store.editMessage({ seq, by: BOB, text: 'hijacked', ts: 1 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NOT_YOURS' }),
    );
    expect(() => store.editMessage({ seq: 99, by: ANN, text: 'x', ts: 1 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NO_SUCH_MESSAGE' }),
    );
    const channel = store.createChannel({ name: 'old', by: ANN, ts: 1 });
    const inChannel = send(store, ANN, 'in old', { channel: channel.kind === 'channel' ? channel.channel.id : '' });
    store.updateChannel({
      id: (channel as Extract<Update, { kind: 'channel' }>).channel.id,
      by: ANN,
      ts: 2,
      archived: true,
    });
    expect(() => store.editMessage({ seq: inChannel, by: ANN, text: 'x', ts: 3 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_CHANNEL_ARCHIVED' }),
    );
    store.deleteMessage({ seq, by: ANN, ts: 4 });
    expect(() => store.editMessage({ seq, by: ANN, text: 'back', ts: 5 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NO_SUCH_MESSAGE' }),
    );
    expect(store.getMessage(seq)).toMatchObject({ text: '', deleted: true });
    store.close();
  });

  it('what was there before an edit is kept in the database only with keepEditHistory', () => {
    for (const keep of [false, true]) {
      const { store, dir } = openStore({ keepEditHistory: keep });
      const seq = send(store, ANN, 'first words');
      store.editMessage({ seq, by: ANN, text: 'second words', ts: 7 });
      store.close();
      const db = new DatabaseSync(join(dir, 'beacon.db'), { readOnly: true });
      const kept = db
        .prepare('SELECT text FROM edit_history')
        .all()
        .map((row) => row.text);
      db.close();
      expect(kept).toEqual(keep ? ['first words'] : []);
    }
  });
});

describe('deletions', () => {
  const ref: FileRef = {
    id: 'f_AAAAAAAAAAAAAAAAAAAAAA',
    name: 'plan.pdf',
    size: 10,
    type: 'application/pdf',
    sha256: 'a'.repeat(64),
  };
  const stored = {
    id: ref.id,
    uploader: ANN,
    conversation: 'room',
    name: 'plan.pdf',
    size: 10,
    declaredType: 'application/pdf',
    mediaType: null,
    sha256: ref.sha256,
    width: null,
    height: null,
    previewId: null,
    createdAt: 1,
  };

  it('a deleted message keeps its place and says so, with no text, files, mentions or reactions, and its reply quotes say deleted', () => {
    const { store, dir } = openStore();
    store.insertFile(stored);
    const seq = send(store, ANN, 'secret plan', { files: [ref], mentions: [BOB] });
    store.react({ seq, by: BOB, emoji: '👀', on: true, ts: 2 });
    const reply = send(store, BOB, 'what plan?', { replyTo: seq });
    expect(store.getMessage(reply)?.replyTo).toEqual({ seq, from: ANN, text: 'secret plan', files: 1 });
    const update = store.deleteMessage({ seq, by: ANN, ts: 3 });
    expect(update).toEqual({ kind: 'delete', seq: 4, ts: 3, by: ANN, target: seq });
    store.close();
    const again = HistoryStore.open(dir);
    const [deleted, replied] = again.page(CAT, 'room', {}, 10).messages;
    expect(deleted).toEqual({
      seq,
      from: ANN,
      to: null,
      text: '',
      ts: expect.any(Number),
      clientId: expect.any(String),
      deleted: true,
    });
    expect(replied?.replyTo).toEqual({ seq, from: ANN, text: '', deleted: true });
    // Its file is no longer served.
    expect(again.findFile(ref.id)).toBeUndefined();
    // Nothing of the text is left to find.
    expect(again.search({ viewer: CAT, channels: true, query: 'secret', limit: 10 }).hits).toEqual([]);
    again.close();
  });

  it('a file sent in two messages is still served after one of them is deleted', () => {
    const { store } = openStore();
    store.insertFile(stored);
    const first = send(store, ANN, 'plan v1', { files: [ref] });
    const second = send(store, ANN, 'plan again', { files: [ref] });
    store.deleteMessage({ seq: first, by: ANN, ts: 9 });
    expect(store.findFile(ref.id)).toEqual(stored);
    store.deleteMessage({ seq: second, by: ANN, ts: 10 });
    expect(store.findFile(ref.id)).toBeUndefined();
    store.close();
  });

  it('only the author deletes, once', () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'mine');
    expect(() => store.deleteMessage({ seq, by: BOB, ts: 1 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NOT_YOURS' }),
    );
    store.deleteMessage({ seq, by: ANN, ts: 1 });
    expect(() => store.deleteMessage({ seq, by: ANN, ts: 2 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NO_SUCH_MESSAGE' }),
    );
    expect(store.lastSeq).toBe(2);
    store.close();
  });
});

describe('reactions', () => {
  it('show emoji in the order first chosen and members in the order they chose; doing it twice changes nothing', () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'lunch?');
    expect(store.react({ seq, by: BOB, emoji: '👍', on: true, ts: 1 })).toMatchObject({ kind: 'react', on: true });
    store.react({ seq, by: CAT, emoji: '🍕', on: true, ts: 2 });
    store.react({ seq, by: ANN, emoji: '👍', on: true, ts: 3 });
    store.react({ seq, by: CAT, emoji: '👍🏽', on: true, ts: 4 });
    const before = store.lastSeq;
    expect(store.react({ seq, by: BOB, emoji: '👍', on: true, ts: 5 })).toBeNull();
    expect(store.react({ seq, by: BOB, emoji: '🍕', on: false, ts: 5 })).toBeNull();
    expect(store.lastSeq).toBe(before);
    expect(store.getMessage(seq)?.reactions).toEqual([
      { emoji: '👍', by: [BOB, ANN] },
      { emoji: '🍕', by: [CAT] },
      { emoji: '👍🏽', by: [CAT] },
    ]);
    store.react({ seq, by: CAT, emoji: '🍕', on: false, ts: 6 });
    expect(store.getMessage(seq)?.reactions).toEqual([
      { emoji: '👍', by: [BOB, ANN] },
      { emoji: '👍🏽', by: [CAT] },
    ]);
    store.close();
  });

  it(`holds ${MAX_EMOJI_PER_MESSAGE} different emoji at most, yet anyone may still join one already there`, () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'vote');
    const emoji = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗'];
    expect(emoji).toHaveLength(MAX_EMOJI_PER_MESSAGE);
    emoji.forEach((e, i) => store.react({ seq, by: `m_${i}`, emoji: e, on: true, ts: i }));
    expect(() => store.react({ seq, by: BOB, emoji: '🤩', on: true, ts: 99 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_TOO_MANY_REACTIONS' }),
    );
    expect(store.react({ seq, by: BOB, emoji: '😀', on: true, ts: 99 })).not.toBeNull();
    store.close();
  });

  it("nobody reacts to another pair's direct message", () => {
    const { store } = openStore();
    const seq = send(store, ANN, 'just for Bob', { recipient: BOB });
    expect(() => store.react({ seq, by: CAT, emoji: '👀', on: true, ts: 1 })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NO_SUCH_MESSAGE' }),
    );
    expect(store.react({ seq, by: BOB, emoji: '❤️', on: true, ts: 1 })).not.toBeNull();
    store.close();
  });
});

describe('channels', () => {
  it('the default channel comes first, named general; channels keep their order, names are unique ignoring case and look-alikes', () => {
    const { store, dir } = openStore();
    expect(store.channels()).toEqual([
      { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: expect.any(Number), archived: false },
    ]);
    const release = store.createChannel({ name: 'release', topic: 'Friday', by: ANN, ts: 10 });
    const design = store.createChannel({ name: 'design', by: BOB, ts: 11 });
    expect(release).toMatchObject({
      kind: 'channel',
      seq: 1,
      by: ANN,
      channel: { name: 'release', topic: 'Friday', createdBy: ANN },
    });
    const ids = store.channels().map((c) => c.id);
    expect(ids[0]).toBe('room');
    expect(ids.slice(1)).toEqual([release, design].map((u) => (u as Extract<Update, { kind: 'channel' }>).channel.id));
    expect(ids[1]).toMatch(/^c_[0-9a-z]{16}$/);
    for (const taken of ['RELEASE', 'rеlease' /* Cyrillic е */, 'General']) {
      expect(() => store.createChannel({ name: taken, by: CAT, ts: 12 })).toThrow(
        expect.objectContaining({ code: 'BEACON_ERR_CHANNEL_NAME_TAKEN' }),
      );
    }
    // Renaming a channel to a look-alike of its own name is fine; to another's is not.
    store.updateChannel({ id: ids[1]!, by: ANN, ts: 13, name: 'Release' });
    expect(() => store.updateChannel({ id: ids[1]!, by: ANN, ts: 14, name: 'DESIGN' })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_CHANNEL_NAME_TAKEN' }),
    );
    expect(() => store.updateChannel({ id: 'room', by: ANN, ts: 15, archived: true })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NOT_ALLOWED' }),
    );
    expect(() => store.updateChannel({ id: 'c_0000000000000000', by: ANN, ts: 15, topic: 'x' })).toThrow(
      expect.objectContaining({ code: 'BEACON_ERR_NO_SUCH_CHANNEL' }),
    );
    store.updateChannel({ id: 'room', by: ANN, ts: 16, name: 'lobby' });
    store.close();
    const again = HistoryStore.open(dir);
    expect(again.channels().map((c) => c.name)).toEqual(['lobby', 'Release', 'design']);
    again.close();
  });

  it('a channel message is in its channel only; a client without channels sees only the default channel and its own DMs', () => {
    const { store } = openStore();
    const id = (store.createChannel({ name: 'ops', by: ANN, ts: 1 }) as Extract<Update, { kind: 'channel' }>).channel
      .id;
    const inRoom = send(store, ANN, 'room');
    const inOps = send(store, ANN, 'ops', { channel: id });
    const explicitDefault = send(store, ANN, 'room again', { channel: 'room' });
    const dm = send(store, BOB, 'dm', { recipient: ANN });
    const seqs = (conversation: Parameters<HistoryStore['page']>[1], channels = false) =>
      store.page(ANN, conversation, {}, 10, Infinity, { channels }).messages.map((m) => m.seq);
    expect(seqs('room')).toEqual([inRoom, explicitDefault]);
    expect(seqs({ channel: 'room' })).toEqual([inRoom, explicitDefault]);
    expect(seqs({ channel: id })).toEqual([inOps]);
    expect(seqs('all', true)).toEqual([inRoom, inOps, explicitDefault, dm]);
    expect(seqs('all', false)).toEqual([inRoom, explicitDefault, dm]);
    expect(store.getMessage(inOps)).toMatchObject({ channel: id, to: null });
    expect(store.getMessage(explicitDefault)).not.toHaveProperty('channel');
    store.close();
  });
});

describe('catching up (page after lastSeq)', () => {
  /** Everything a member gets by paging `after` from `lastSeq` in pages of `limit`, as a client would. */
  function catchUp(
    store: HistoryStore,
    viewer: string,
    lastSeq: number,
    limit: number,
    maxBytes = Infinity,
    channels = true,
  ) {
    const seen: number[] = [];
    let position = lastSeq;
    for (let pages = 0; pages < 1_000; pages++) {
      const page = store.page(viewer, 'all', { after: position }, limit, maxBytes, { channels });
      const seqs = [...page.messages.map((m) => m.seq), ...page.updates.map((u) => u.seq)];
      seen.push(...seqs);
      if (seqs.length > 0) position = Math.max(position, ...seqs);
      if (!page.hasMore) return seen.sort((a, b) => a - b);
      expect(seqs.length).toBeGreaterThan(0);
    }
    throw new Error('never caught up');
  }

  it('delivers every message and every update after lastSeq once, even updates to older messages, at any page size', () => {
    const { store } = openStore();
    const old = send(store, ANN, 'old');
    const oldDm = send(store, ANN, 'old dm', { recipient: BOB });
    const lastSeq = store.lastSeq;
    const expected: number[] = [];
    const id = (store.createChannel({ name: 'ops', by: CAT, ts: 1 }) as Extract<Update, { kind: 'channel' }>).channel
      .id;
    expected.push(store.lastSeq);
    for (let i = 0; i < 12; i++) {
      expected.push(send(store, i % 2 ? BOB : CAT, `new ${i}`, i % 3 === 0 ? { channel: id } : {}));
      if (i % 4 === 0)
        expected.push(store.editMessage({ seq: old, by: ANN, text: `old, edited ${i}`, ts: clock++ }).seq);
      if (i % 5 === 0)
        expected.push(
          store.react({ seq: oldDm, by: BOB, emoji: ['👀', '👍', '🎉'][i / 5]!, on: true, ts: clock++ })!.seq,
        );
    }
    expected.push(store.deleteMessage({ seq: old, by: ANN, ts: clock++ }).seq);
    for (const limit of [1, 2, 3, 5, 100]) {
      expect(catchUp(store, BOB, lastSeq, limit)).toEqual(expected);
    }
    // Cut by bytes rather than count, still each once.
    expect(catchUp(store, BOB, lastSeq, 100, 150)).toEqual(expected);
    store.close();
  });

  it("a member catching up never gets updates to another pair's direct messages, nor of channels without 'channels'", () => {
    const { store } = openStore();
    const dm = send(store, ANN, 'for Bob only', { recipient: BOB });
    const id = (store.createChannel({ name: 'ops', by: ANN, ts: 1 }) as Extract<Update, { kind: 'channel' }>).channel
      .id;
    const inOps = send(store, ANN, 'ops talk', { channel: id });
    store.editMessage({ seq: dm, by: ANN, text: 'for Bob only (edited)', ts: 2 });
    store.react({ seq: dm, by: BOB, emoji: '❤️', on: true, ts: 3 });
    store.react({ seq: inOps, by: BOB, emoji: '👍', on: true, ts: 4 });
    const cat = store.page(CAT, 'all', { after: 0 }, 100, Infinity, { channels: true });
    expect(cat.messages.map((m) => m.seq)).toEqual([inOps]);
    expect(cat.updates.map((u) => u.kind)).toEqual(['channel', 'react']);
    const oldCat = store.page(CAT, 'all', { after: 0 }, 100, Infinity, { channels: false });
    expect(oldCat.messages).toEqual([]);
    expect(oldCat.updates).toEqual([]);
    const bob = store.page(BOB, { with: ANN }, { after: 0 }, 100);
    expect(bob.updates.map((u) => u.kind)).toEqual(['edit', 'react']);
    // Pages backwards carry no updates: their messages already stand as they are now.
    expect(store.page(BOB, 'all', {}, 100, Infinity, { channels: true }).updates).toEqual([]);
    store.close();
  });
});

describe('replies', () => {
  it('carry a quote of the first 200 characters of the original as it stands when read, never cutting an emoji in two', () => {
    const { store } = openStore();
    const long = `${'a'.repeat(199)}😀 and more`;
    const seq = send(store, ANN, long);
    const reply = store.append({ sender: BOB, recipient: null, text: 'yes', ts: 1, clientId: 'r', replyTo: seq });
    expect(reply.message.replyTo).toEqual({ seq, from: ANN, text: 'a'.repeat(199) });
    store.editMessage({ seq, by: ANN, text: 'short now', ts: 2 });
    expect(store.getMessage(reply.message.seq)?.replyTo).toEqual({ seq, from: ANN, text: 'short now' });
    // A resend answers with the stored message as it stands.
    expect(
      store.append({ sender: BOB, recipient: null, text: 'yes', ts: 1, clientId: 'r', replyTo: seq }),
    ).toMatchObject({
      duplicate: true,
      message: { replyTo: { text: 'short now' } },
    });
    store.close();
  });

  it('names everyone a page shows: quoted authors, mentioned members and who reacted', () => {
    const { store } = openStore();
    for (const [id, name] of [
      [ANN, 'Ann'],
      [BOB, 'Bob'],
      [CAT, 'Cat'],
    ] as const) {
      store.saveMember({ id, name, token: `t_${id}`, joinedAt: 1 });
    }
    const seq = send(store, ANN, 'q');
    store.react({ seq, by: CAT, emoji: '👍', on: true, ts: 1 });
    const reply = send(store, BOB, 'a', { replyTo: seq, mentions: [CAT] });
    const page = store.page(BOB, 'room', { after: seq }, 10);
    expect(page.messages.map((m) => m.seq)).toEqual([reply]);
    expect(store.namesFor(page.messages, page.updates)).toEqual({ [ANN]: 'Ann', [BOB]: 'Bob', [CAT]: 'Cat' });
    store.close();
  });
});

describe('identities', () => {
  it('someone who only reacted keeps their name on the messages they reacted to', () => {
    const { store } = openStore();
    store.saveMember({ id: ANN, name: 'Ann', token: 't_ann', joinedAt: 1 });
    store.saveMember({ id: CAT, name: 'Cat', token: 't_cat', joinedAt: 1 });
    const seq = send(store, ANN, 'hi');
    store.react({ seq, by: CAT, emoji: '👋', on: true, ts: 2 });
    expect(store.pruneIdentities(1, 1_000_000)).toBe(0);
    expect(store.namesFor(store.page(ANN, 'room', {}, 10).messages)).toEqual({ [ANN]: 'Ann', [CAT]: 'Cat' });
    store.react({ seq, by: CAT, emoji: '👋', on: false, ts: 3 });
    expect(store.pruneIdentities(1, 1_000_000)).toBe(1);
    store.close();
  });
});
