/**
 * The v1.5 clients against the real host on loopback: the ChatFeed (what the desktop app and the
 * browser run) and RoomClient, beside a v1.4-style member, through a TCP proxy that cuts the
 * network. Named after what the people in the room notice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomServer } from '../../src/host/room-server.ts';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { ChatFeed } from '../../src/shared/chat-feed.ts';
import type { ChatMessage, Update } from '../../src/shared/protocol.ts';
import { cleanup, joined, next, roomAddress, startRoom } from '../helpers/room.ts';
import { tcpProxy } from '../helpers/tcp-proxy.ts';
import { member, messagesOf } from './conversations-peers.ts';

const feeds: ChatFeed[] = [];
afterEach(async () => {
  for (const feed of feeds.splice(0)) feed.leave();
  await cleanup();
});

/** A person in the room through the ChatFeed, as the desktop app and the browser are. */
async function person(address: string, name: string) {
  const events: ChatEvent[] = [];
  const feed = new ChatFeed({
    socketFactory: wsSocketFactory,
    emit: (event) => events.push(event),
    startInfo: () => ({ recentRooms: [], displayName: name }),
    clientOptions: { backoff: { initialMs: 20, maxMs: 100, factor: 2 }, offlineAfterAttempts: 1000 },
  });
  feeds.push(feed);
  const result = await feed.join({ address, name, code: '1234' });
  expect(result).toEqual({ ok: true, value: null });
  const id = feed.snapshot().room!.you.id;
  /** Every update this interface was told of, live, with a welcome, or with a page. */
  const updates = (): Update[] =>
    events.flatMap((event) =>
      event.type === 'updates' ? event.updates : event.type === 'welcome' ? (event.updates ?? []) : [],
    );
  const shown = (): ChatMessage[] =>
    events.flatMap((event) =>
      event.type === 'messages' ? event.messages : event.type === 'welcome' ? event.history : [],
    );
  /** Sends and waits for the host's ack: the message's seq. */
  const say = async (conversation: string, text: string, options: { replyTo?: number; mentions?: string[] } = {}) => {
    const receipt = feed.send(conversation, text, options);
    if (!receipt.ok) throw new Error(receipt.error.code);
    const [status] = await next(
      feed.client!,
      'status',
      (s) => s.clientId === receipt.value.clientId && s.status !== 'pending',
    );
    if (status.status !== 'sent') throw new Error(status.error);
    return status.seq!;
  };
  return { feed, events, id, updates, shown, say };
}

async function cutAndRestore(
  proxy: Awaited<ReturnType<typeof tcpProxy>>,
  feed: ChatFeed,
  whileAway: () => Promise<void>,
) {
  const client = feed.client!;
  const lost = next(client, 'state', (s) => s.kind === 'reconnecting');
  proxy.refuse();
  await lost;
  await whileAway();
  const back = next(client, 'welcome');
  proxy.accept();
  client.retryNow();
  await back;
}

const seqsOf = (updates: Update[]): number[] => updates.map((u) => u.seq);

/**
 * The answers, which must all be there before anything else can happen (before the next turn of
 * the event loop: no socket read, no timer), however loaded the machine is.
 */
async function answeredAtOnce(asked: Promise<unknown>[]): Promise<unknown[]> {
  const late = Symbol('late');
  const first = await Promise.race([
    Promise.all(asked),
    new Promise<typeof late>((resolve) => setImmediate(() => resolve(late))),
  ]);
  if (first === late) throw new Error('not answered at once');
  return first;
}

describe('a v1.5 member beside one whose app is older (v1.4)', () => {
  it('both talk in the default channel; only the v1.5 member sees the channel, and edits reach both apps without breaking the older one', async () => {
    const server = await startRoom();
    const ann = await person(roomAddress(server), 'Ann');
    const old = await member(server, 'Olaf', { channels: false });
    const made = await ann.feed.createChannel({ name: 'release', topic: 'Friday' });
    expect(made.ok).toBe(true);
    const release = made.ok ? made.value.id : '';

    const hello = await ann.say('room', 'hello everyone');
    await ann.say(release, 'only for the release channel');
    await expect.poll(() => messagesOf(old.peer).map((m) => m.text)).toEqual(['hello everyone']);
    // The older app speaks as it always did, and lands in the default channel.
    old.peer.send({ type: 'send', clientId: 'olaf1', to: null, text: 'hi Ann' });
    await expect.poll(() => ann.shown().map((m) => m.text)).toContain('hi Ann');
    expect(ann.shown().find((m) => m.text === 'hi Ann')).not.toHaveProperty('channel');

    expect(await ann.feed.edit({ seq: hello, text: 'hello everyone!' })).toEqual({ ok: true, value: null });
    await expect.poll(() => old.peer.frames.some((f) => f.type === 'update')).toBe(true);
    // The older app is still in the room and still hears messages.
    await ann.say('room', 'still there?');
    await expect.poll(() => messagesOf(old.peer).map((m) => m.text)).toContain('still there?');
    expect(old.welcome).not.toHaveProperty('channels.1');
    expect(old.peer.frames.filter((f) => f.type === 'message' && f.message.channel !== undefined)).toEqual([]);
  });
});

describe('changes made while someone is away', () => {
  it('edits, deletions, reactions and channel changes arrive exactly once on resume, and the reloaded screen shows them', async () => {
    // A small resume page, so what was missed comes in a welcome and then pages.
    const server = await startRoom({ limits: { resumePageSize: 3 } });
    const proxy = await tcpProxy(server.port);
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(`ws://127.0.0.1:${proxy.port}/`, 'Bob');
    const first = await ann.say('room', 'the build is red');
    const doomed = await ann.say('room', 'this will go');
    const ownReply = await bob.say('room', 'on it', { replyTo: first });
    await expect.poll(() => bob.shown().map((m) => m.seq)).toEqual([first, doomed]);

    let channelId = '';
    await cutAndRestore(proxy, bob.feed, async () => {
      expect((await ann.feed.edit({ seq: first, text: 'the build is green' })).ok).toBe(true);
      expect((await ann.feed.deleteMessage({ seq: doomed })).ok).toBe(true);
      expect((await ann.feed.react({ seq: ownReply, emoji: '👍', on: true })).ok).toBe(true);
      expect((await ann.feed.react({ seq: first, emoji: '🎉', on: true })).ok).toBe(true);
      expect((await ann.feed.react({ seq: first, emoji: '🎉', on: false })).ok).toBe(true);
      const created = await ann.feed.createChannel({ name: 'ops', topic: '' });
      channelId = created.ok ? created.value.id : '';
      expect((await ann.feed.updateChannel({ id: channelId, topic: 'pager duty' })).ok).toBe(true);
      await ann.say(channelId, 'first in ops');
    });
    // Caught up: every update once, none twice, none missing.
    await expect.poll(() => bob.updates().length).toBe(7);
    const seen = seqsOf(bob.updates());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seqsOf(ann.updates()).filter((seq) => seq > doomed)).toEqual(expect.arrayContaining(seen));
    await expect.poll(() => bob.shown().map((m) => m.text)).toContain('first in ops');
    expect(bob.feed.client!.lastSeq).toBe(ann.feed.client!.lastSeq);

    // What a reloaded interface is shown.
    const snapshot = bob.feed.snapshot();
    const bySeq = new Map(snapshot.history.map((m) => [m.seq, m]));
    expect(bySeq.get(first)).toMatchObject({ text: 'the build is green', editedAt: expect.any(Number) });
    expect(bySeq.get(first)).not.toHaveProperty('reactions');
    expect(bySeq.get(doomed)).toMatchObject({ text: '', deleted: true });
    expect(bySeq.get(ownReply)).toMatchObject({
      replyTo: { seq: first, text: 'the build is green' },
      reactions: [{ emoji: '👍', by: [ann.id] }],
    });
    expect(snapshot.room!.channels!.find((c) => c.id === channelId)).toMatchObject({
      name: 'ops',
      topic: 'pager duty',
    });

    // And live, once more: one event each, nothing repeated.
    const before = bob.updates().length;
    expect((await ann.feed.react({ seq: first, emoji: '👀', on: true })).ok).toBe(true);
    await expect.poll(() => bob.updates().length).toBe(before + 1);
  });

  it('a member cut off in the middle of catching up still gets every change once', async () => {
    const server = await startRoom({ limits: { resumePageSize: 2 } });
    const proxy = await tcpProxy(server.port);
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(`ws://127.0.0.1:${proxy.port}/`, 'Bob');
    const target = await ann.say('room', 'react to me');
    await expect.poll(() => bob.shown().length).toBe(1);
    const emoji = ['👍', '🎉', '👀', '🚀', '✅', '🔥', '💯', '🙏'];
    const client = bob.feed.client!;
    const lost = next(client, 'state', (s) => s.kind === 'reconnecting');
    proxy.refuse();
    await lost;
    for (const e of emoji) expect((await ann.feed.react({ seq: target, emoji: e, on: true })).ok).toBe(true);
    // The resume's welcome brings the first two; the network dies before the page asked for next.
    let welcomes = 0;
    const off = client.on('welcome', () => {
      if (++welcomes === 1) proxy.freeze();
    });
    proxy.accept();
    client.retryNow();
    await expect.poll(() => welcomes).toBe(1);
    expect(bob.updates()).toHaveLength(2);
    proxy.thaw();
    await expect.poll(() => welcomes).toBe(2);
    off();
    await expect.poll(() => bob.updates().length).toBe(emoji.length);
    expect(new Set(seqsOf(bob.updates())).size).toBe(emoji.length);
    expect(bob.feed.snapshot().history[0]!.reactions?.map((r) => r.emoji)).toEqual(emoji);
  });
});

describe('changes seen live, then a drop', () => {
  it('a reaction seen as it happened is not delivered again by the resume that follows', async () => {
    const server = await startRoom();
    const proxy = await tcpProxy(server.port);
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(`ws://127.0.0.1:${proxy.port}/`, 'Bob');
    const target = await ann.say('room', 'react to me');
    expect((await ann.feed.react({ seq: target, emoji: '👍', on: true })).ok).toBe(true);
    await expect.poll(() => bob.updates().length).toBe(1);
    await cutAndRestore(proxy, bob.feed, async () => {
      expect((await ann.feed.react({ seq: target, emoji: '🎉', on: true })).ok).toBe(true);
    });
    await expect.poll(() => bob.updates().length).toBeGreaterThanOrEqual(2);
    await bob.say('room', 'flush');
    expect(bob.updates().map((u) => (u.kind === 'react' ? u.emoji : u.kind))).toEqual(['👍', '🎉']);
  });
});

describe('asking while the connection is down', () => {
  it('an edit, a reaction, a new channel or a search fails at once with "not connected", and is not done later', async () => {
    const server = await startRoom();
    const proxy = await tcpProxy(server.port);
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(`ws://127.0.0.1:${proxy.port}/`, 'Bob');
    const mine = await bob.say('room', 'typo hre');
    const lost = next(bob.feed.client!, 'state', (s) => s.kind === 'reconnecting');
    proxy.refuse();
    await lost;
    const answers = await answeredAtOnce([
      bob.feed.edit({ seq: mine, text: 'typo here' }),
      bob.feed.react({ seq: mine, emoji: '👍', on: true }),
      bob.feed.createChannel({ name: 'later', topic: '' }),
      bob.feed.search({ query: 'typo' }),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OFFLINE' } });
    const back = next(bob.feed.client!, 'welcome');
    proxy.accept();
    bob.feed.client!.retryNow();
    await back;
    // A message typed meanwhile still goes (messages wait; requests do not), and nothing else happened.
    await bob.say('room', 'back');
    await expect.poll(() => ann.shown().map((m) => m.text)).toContain('back');
    expect(ann.updates()).toEqual([]);
    expect(ann.feed.snapshot().room!.channels!.map((c) => c.name)).toEqual(['general']);
  });
});

describe('what only the author may do', () => {
  it('editing or deleting someone else’s message is refused with the host’s reason, and changes nothing', async () => {
    const server = await startRoom();
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(roomAddress(server), 'Bob');
    const hers = await ann.say('room', 'mine');
    await expect.poll(() => bob.shown().length).toBe(1);
    expect(await bob.feed.edit({ seq: hers, text: 'yours now' })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_NOT_YOURS' },
    });
    expect(await bob.feed.deleteMessage({ seq: hers })).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_NOT_YOURS' },
    });
    // The refusal is the asker's answer, not an error banner.
    expect(bob.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(bob.feed.snapshot().history[0]).toMatchObject({ text: 'mine' });
  });
});

describe('search and finding a message where it is', () => {
  async function roomWithHistory(server: RoomServer) {
    const ann = await person(roomAddress(server), 'Ann');
    const bob = await person(roomAddress(server), 'Bob');
    const cat = await person(roomAddress(server), 'Cat');
    const made = await ann.feed.createChannel({ name: 'release', topic: '' });
    const release = made.ok ? made.value.id : '';
    for (let i = 0; i < 60; i++) await ann.say(release, `filler ${i}`);
    const target = await ann.say(release, 'the windows build is broken');
    for (let i = 60; i < 80; i++) await ann.say(release, `filler ${i}`);
    await ann.say(cat.id, 'secret windows build between Ann and Cat');
    await ann.say(bob.id, 'psst Bob, the windows build');
    return { ann, bob, cat, release, target };
  }

  it('finds words in channels and in one’s own direct messages, never in other people’s, with the words marked', async () => {
    const server = await startRoom();
    const { bob, release, target } = await roomWithHistory(server);
    const answer = await bob.feed.search({ query: 'windows buil' });
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    const texts = answer.value.hits.map((hit) => hit.message.text);
    expect(texts).toEqual(['psst Bob, the windows build', 'the windows build is broken']);
    const hit = answer.value.hits.find((h) => h.message.seq === target)!;
    expect(hit.message.channel).toBe(release);
    expect(hit.highlights.map(([a, b]) => hit.message.text.slice(a, b).toLowerCase())).toEqual(['windows', 'build']);
    expect(hit.before.map((m) => m.text)).toEqual(['filler 58', 'filler 59']);
    expect(Object.values(answer.value.names)).toContain('Ann');
    // Only in the channel:
    const inChannel = await bob.feed.search({ query: 'windows', conversation: release });
    expect(inChannel.ok && inChannel.value.hits.map((h) => h.message.seq)).toEqual([target]);
  });

  it('opening an old hit loads the page that holds it, with what came after it', async () => {
    const server = await startRoom();
    const { bob, release, target } = await roomWithHistory(server);
    expect(bob.feed.loadAround(release, target)).toEqual({ ok: true, value: null });
    await expect.poll(() => bob.events.some((e) => e.type === 'history')).toBe(true);
    const page = bob.events.find((e) => e.type === 'history');
    if (page?.type !== 'history') throw new Error('no page');
    expect(page.conversation).toBe(release);
    const seqs = page.messages.map((m) => m.seq);
    expect(seqs).toContain(target);
    expect(seqs.filter((seq) => seq > target).length).toBeGreaterThan(10);
    expect(seqs.filter((seq) => seq < target).length).toBeGreaterThan(10);
    expect(page.messages.every((m) => m.channel === release)).toBe(true);
  });
});

describe('a request the host cannot read', () => {
  it('is answered as refused (malformed) to whoever asked, with no banner, and the connection stays', async () => {
    const server = await startRoom();
    const bob = await joined(server, 'Bob');
    const errors: string[] = [];
    bob.on('error', (error) => errors.push(error.code));
    // Longer than a query may be: the host refuses the frame itself, quoting its ref.
    const answer = await bob.search({ query: 'x'.repeat(201) });
    expect(answer).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_MALFORMED' } });
    expect(bob.state.kind).toBe('connected');
    expect(errors).toEqual([]);
  });
});
