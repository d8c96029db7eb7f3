/**
 * ChatFeed with a v1.5 host (channels, replies, edits, deletions, reactions, search), the host
 * scripted at the socket so the real RoomClient and ChatFeed run unchanged: what an interface is
 * told, and what a reloaded interface finds in the snapshot.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { AROUND_AFTER, AROUND_PAGE, ChatFeed, joinedFromHostMachine } from '../../src/shared/chat-feed.ts';
import {
  type Channel,
  type ChatMessage,
  type ClientFrame,
  DEFAULT_ROOM_LIMITS,
  type HostFrame,
  type Update,
  type WelcomeFrame,
} from '../../src/shared/protocol.ts';
import type { SocketLike } from '../../src/shared/room-client.ts';

const me = { id: 'm_me', name: 'Me', status: 'online' as const, joinedAt: 1 };
const msg = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  from: 'm_ann',
  to: null,
  text: `t${seq}`,
  ts: seq,
  clientId: `a${seq}`,
  ...over,
});
const general: Channel = { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: 0, archived: false };
const release: Channel = { ...general, id: 'c_0123456789abcdef', name: 'release', createdBy: 'm_ann' };
const old: Channel = { ...general, id: 'c_oooooooooooooooo', name: 'old', createdBy: 'm_ann', archived: true };
const FEATURES = ['channels', 'replies', 'edits', 'reactions', 'mentions', 'search'];

function scriptedHost() {
  let socket: SocketLike | null = null;
  const sent: ClientFrame[] = [];
  const factory = (): SocketLike => {
    const created: SocketLike = {
      send: (data) => sent.push(JSON.parse(data) as ClientFrame),
      close: () => {},
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    socket = created;
    queueMicrotask(() => created.onopen?.());
    return created;
  };
  const push = (frame: HostFrame): void => socket!.onmessage!(JSON.stringify(frame));
  const drop = (): void => socket!.onclose!(1006, '');
  const welcome = (over: Partial<WelcomeFrame> = {}): void =>
    push({
      type: 'welcome',
      v: 1,
      room: { name: 'Team' },
      you: me,
      token: 't_me',
      resumed: false,
      members: [me],
      history: [msg(1), msg(2, { channel: release.id })],
      hasMore: false,
      lastSeq: 2,
      limits: DEFAULT_ROOM_LIMITS,
      features: FEATURES,
      channels: [general, release, old],
      channelCreators: 'host',
      ...over,
    });
  const nextHello = async (count = 1): Promise<void> => {
    while (sent.filter((f) => f.type === 'hello').length < count)
      await new Promise((resolve) => setTimeout(resolve, 1));
  };
  const last = <T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }> =>
    sent.filter((f) => f.type === type).at(-1) as Extract<ClientFrame, { type: T }>;
  return { factory, push, drop, welcome, nextHello, sent, last };
}

async function joinedFeed(address = '192.168.1.20:4747', welcome: Partial<WelcomeFrame> = {}) {
  const host = scriptedHost();
  const events: ChatEvent[] = [];
  const feed = new ChatFeed({
    socketFactory: host.factory,
    emit: (event) => events.push(event),
    startInfo: () => ({ recentRooms: [], displayName: 'Me' }),
    clientOptions: { backoff: { initialMs: 1, maxMs: 1, factor: 1 } },
  });
  const joining = feed.join({ address, name: 'Me', code: '' });
  await host.nextHello();
  host.welcome(welcome);
  expect(await joining).toEqual({ ok: true, value: null });
  return { feed, host, events };
}

const update = (u: Update): HostFrame => ({ type: 'update', update: u });

describe('the room as a v1.5 host describes it', () => {
  it('a reloaded interface finds the channels, what the host can do and what this member may do', async () => {
    const { feed, events } = await joinedFeed();
    const room = feed.snapshot().room!;
    expect(room.channels?.map((c) => c.name)).toEqual(['general', 'release', 'old']);
    expect(room.features).toEqual(FEATURES);
    // Only the host creates channels here, and this member joined from another machine.
    expect(room).toMatchObject({ canCreateChannels: false, isHost: false });
    expect(events.find((e) => e.type === 'welcome')).toMatchObject({ room: { channels: [general, release, old] } });
  });

  it('the member at the host’s own machine (joined over loopback) is the host and may create channels', async () => {
    const { feed } = await joinedFeed('127.0.0.1:4747');
    expect(feed.snapshot().room).toMatchObject({ canCreateChannels: true, isHost: true });
    expect(joinedFromHostMachine('wss://[::1]:4747/')).toBe(true);
    expect(joinedFromHostMachine('wss://127.0.0.2.example:4747/')).toBe(false);
  });

  it('an older host: no channels, nothing to create, and a message is never sent to a channel it cannot keep apart', async () => {
    const { feed, host } = await joinedFeed('192.168.1.20:4747', {
      features: undefined,
      channels: undefined,
      channelCreators: undefined,
    });
    expect(feed.snapshot().room).toMatchObject({ canCreateChannels: false });
    expect(feed.snapshot().room).not.toHaveProperty('channels');
    expect(feed.send(release.id, 'hi')).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OLD_HOST' } });
    expect(host.sent.filter((f) => f.type === 'send')).toEqual([]);
  });
});

describe('messages to channels, replies and mentions', () => {
  it('a reply in a channel goes with its channel, reply and mentions, and is kept as such once acknowledged', async () => {
    const { feed, host } = await joinedFeed();
    const receipt = feed.send(release.id, '@Ann yes', { replyTo: 2, mentions: ['m_ann'] });
    const clientId = receipt.ok ? receipt.value.clientId : '';
    expect(host.last('send')).toEqual({
      type: 'send',
      clientId,
      to: null,
      text: '@Ann yes',
      channel: release.id,
      replyTo: 2,
      mentions: ['m_ann'],
    });
    host.push({ type: 'ack', clientId, seq: 3, ts: 9 });
    expect(feed.snapshot().history.at(-1)).toEqual({
      seq: 3,
      from: 'm_me',
      to: null,
      text: '@Ann yes',
      ts: expect.any(Number),
      clientId,
      channel: release.id,
      replyTo: { seq: 2, from: 'm_ann', text: 't2' },
      mentions: ['m_ann'],
    });
  });

  it('an archived or unknown channel refuses at once, saying why', async () => {
    const { feed } = await joinedFeed();
    expect(feed.send(old.id, 'x')).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_CHANNEL_ARCHIVED' } });
    expect(feed.send('c_zzzzzzzzzzzzzzzz', 'x')).toMatchObject({
      ok: false,
      error: { code: 'BEACON_ERR_NO_SUCH_CHANNEL' },
    });
  });

  it('someone typing in a channel shows in that channel', async () => {
    const { host, events } = await joinedFeed();
    host.push({ type: 'typing', from: 'm_ann', to: null, channel: release.id });
    host.push({ type: 'typing', from: 'm_ann', to: null });
    expect(events.filter((e) => e.type === 'typing')).toEqual([
      { type: 'typing', from: 'm_ann', conversation: release.id },
      { type: 'typing', from: 'm_ann', conversation: 'room' },
    ]);
  });
});

describe('edits, deletions, reactions and channel changes', () => {
  it('each live update is one updates event, and a reloaded interface sees it applied', async () => {
    const { feed, host, events } = await joinedFeed();
    host.push(update({ kind: 'edit', seq: 3, ts: 30, by: 'm_ann', target: 1, text: 'fixed' }));
    host.push(update({ kind: 'react', seq: 4, ts: 31, by: 'm_me', target: 2, emoji: '👍', on: true }));
    host.push(update({ kind: 'delete', seq: 5, ts: 32, by: 'm_ann', target: 2 }));
    host.push(update({ kind: 'channel', seq: 6, ts: 33, by: 'm_ann', channel: { ...release, name: 'shipping' } }));
    expect(events.filter((e) => e.type === 'updates').map((e) => e.type === 'updates' && e.updates[0]!.seq)).toEqual([
      3, 4, 5, 6,
    ]);
    const snapshot = feed.snapshot();
    expect(snapshot.history[0]).toMatchObject({ text: 'fixed', editedAt: 30 });
    expect(snapshot.history[1]).toMatchObject({ text: '', deleted: true });
    expect(snapshot.history[1]).not.toHaveProperty('reactions');
    expect(snapshot.room!.channels!.map((c) => c.name)).toEqual(['general', 'shipping', 'old']);
  });

  it('after a drop, the welcome carries what happened meanwhile, and the snapshot shows it', async () => {
    const { feed, host, events } = await joinedFeed();
    host.drop();
    await host.nextHello(2);
    expect(host.last('hello')).toMatchObject({ resume: { token: 't_me', lastSeq: 2 } });
    const edited: Update = { kind: 'edit', seq: 3, ts: 30, by: 'm_ann', target: 1, text: 'fixed while away' };
    host.welcome({ resumed: true, history: [], updates: [edited], lastSeq: 3 });
    expect(events.filter((e) => e.type === 'welcome').at(-1)).toMatchObject({ resumed: true, updates: [edited] });
    // Said once: with the welcome, not again as an updates event.
    expect(events.filter((e) => e.type === 'updates')).toEqual([]);
    expect(feed.snapshot().history[0]).toMatchObject({ text: 'fixed while away' });
    expect(feed.client!.lastSeq).toBe(3);
  });

  it('a catch-up page brings its messages, then its updates, and asks on from the newest of either', async () => {
    const { host, events } = await joinedFeed();
    host.drop();
    await host.nextHello(2);
    host.welcome({ resumed: true, history: [msg(3)], hasMore: true, lastSeq: 9 });
    expect(host.last('history')).toMatchObject({ after: 3 });
    host.push({
      type: 'history',
      direction: 'after',
      messages: [msg(4)],
      hasMore: true,
      updates: [{ kind: 'react', seq: 6, ts: 6, by: 'm_ann', target: 4, emoji: '🎉', on: true }],
    });
    expect(host.last('history')).toMatchObject({ after: 6 });
    const tail = events.slice(-2).map((e) => e.type);
    expect(tail).toEqual(['messages', 'updates']);
  });
});

describe('finding a message', () => {
  it('loadAround asks for the page that holds it, with what followed it', async () => {
    const { feed, host, events } = await joinedFeed();
    expect(feed.loadAround(release.id, 140)).toEqual({ ok: true, value: null });
    expect(host.last('history')).toEqual({
      type: 'history',
      conversation: release.id,
      before: 140 + AROUND_AFTER,
      limit: AROUND_PAGE,
    });
    host.push({ type: 'history', conversation: release.id, direction: 'before', messages: [msg(140)], hasMore: true });
    expect(events.at(-1)).toMatchObject({ type: 'history', conversation: release.id, messages: [{ seq: 140 }] });
  });

  it('search answers with the hits and the names of everyone on them', async () => {
    const { feed, host } = await joinedFeed();
    const asked = feed.search({ query: 'build', conversation: release.id });
    await Promise.resolve();
    const search = host.last('search');
    expect(search).toMatchObject({ query: 'build', conversation: release.id });
    host.push({
      type: 'searchResults',
      ref: search.ref,
      hasMore: false,
      names: { m_gone: 'Gone' },
      hits: [{ message: msg(7, { from: 'm_gone', text: 'the build' }), highlights: [[4, 9]], before: [], after: [] }],
    });
    expect(await asked).toEqual({
      ok: true,
      value: {
        hits: [{ message: msg(7, { from: 'm_gone', text: 'the build' }), highlights: [[4, 9]], before: [], after: [] }],
        hasMore: false,
        names: { m_gone: 'Gone' },
      },
    });
    expect(feed.snapshot().room!.names).toMatchObject({ m_gone: 'Gone' });
  });

  it('creating a channel answers with the channel the host made', async () => {
    const { feed, host } = await joinedFeed('127.0.0.1:4747');
    const asked = feed.createChannel({ name: 'ops', topic: '' });
    await Promise.resolve();
    const request = host.last('channel');
    expect(request).toEqual({ type: 'channel', ref: request.ref, op: 'create', name: 'ops' });
    const made = { ...release, id: 'c_aaaaaaaaaaaaaaaa', name: 'ops' };
    host.push({ type: 'done', ref: request.ref, seq: 10, channel: made });
    expect(await asked).toEqual({ ok: true, value: made });
  });
});
