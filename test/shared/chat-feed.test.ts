/**
 * ChatFeed's snapshot: what an interface that reloads is shown. A scripted
 * host plays the other end of the socket (RoomClient takes any SocketFactory),
 * so the real RoomClient and ChatFeed run unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { ChatFeed } from '../../src/shared/chat-feed.ts';
import { type ChatMessage, DEFAULT_ROOM_LIMITS, type HostFrame } from '../../src/shared/protocol.ts';
import type { SocketLike } from '../../src/shared/room-client.ts';

const me = { id: 'm_me', name: 'Me', status: 'online' as const, joinedAt: 1 };
const msg = (seq: number): ChatMessage => ({
  seq,
  from: 'm_ann',
  to: null,
  text: `t${seq}`,
  ts: seq,
  clientId: `a${seq}`,
});

function scriptedHost() {
  let socket: SocketLike | null = null;
  const sent: string[] = [];
  const factory = (): SocketLike => {
    const created: SocketLike = {
      send: (data) => sent.push(data),
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
  const welcome = (history: ChatMessage[], hasMore: boolean, resumed = false): void =>
    push({
      type: 'welcome',
      v: 1,
      room: { name: 'Team' },
      you: me,
      token: 't_me',
      resumed,
      members: [me],
      history,
      hasMore,
      lastSeq: history.at(-1)?.seq ?? 0,
      limits: DEFAULT_ROOM_LIMITS,
    });
  const helloSent = async (): Promise<void> => {
    while (!sent.some((s) => s.includes('"hello"'))) await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return { factory, push, welcome, helloSent, sent };
}

async function joinedFeed(history: ChatMessage[] = [], hasMore = false) {
  const host = scriptedHost();
  const events: ChatEvent[] = [];
  const feed = new ChatFeed({
    socketFactory: host.factory,
    emit: (event) => events.push(event),
    startInfo: () => ({ recentRooms: [], displayName: 'Me' }),
  });
  const joining = feed.join({ address: '127.0.0.1:4747', name: 'Me', code: '' });
  await host.helloSent();
  host.welcome(history, hasMore);
  expect(await joining).toEqual({ ok: true, value: null });
  return { feed, host, events };
}

describe('the snapshot an interface reloads from', () => {
  it('holds the room and the messages so far, in order', async () => {
    const { feed, host } = await joinedFeed([msg(1), msg(2)]);
    host.push({ type: 'message', message: msg(3) });
    const snapshot = feed.snapshot();
    expect(snapshot.room?.name).toBe('Team');
    expect(snapshot.history.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(snapshot.hasMore).toBe(false);
  });

  // The number is the specification: a reload shows a full screen and more, without holding the whole room.
  const SNAPSHOT_MESSAGES = 500;
  it('keeps only the latest 500 messages and says older ones exist', async () => {
    const { feed, host } = await joinedFeed();
    for (let seq = 1; seq <= SNAPSHOT_MESSAGES + 20; seq++) host.push({ type: 'message', message: msg(seq) });
    const snapshot = feed.snapshot();
    expect(snapshot.history).toHaveLength(SNAPSHOT_MESSAGES);
    expect(snapshot.history[0]!.seq).toBe(21);
    expect(snapshot.history.at(-1)!.seq).toBe(SNAPSHOT_MESSAGES + 20);
    expect(snapshot.hasMore).toBe(true);
  });

  it('a message that arrives twice (a catch-up page overlapping what came live) is kept once', async () => {
    const { feed, host, events } = await joinedFeed([msg(1)]);
    host.push({ type: 'message', message: msg(2) });
    host.push({ type: 'message', message: msg(2) });
    host.push({ type: 'history', messages: [msg(1), msg(2), msg(3)], hasMore: false, direction: 'after' });
    expect(feed.snapshot().history.map((m) => m.seq)).toEqual([1, 2, 3]);
    // Each page reaches the interface as one event.
    expect(events.filter((e) => e.type === 'messages').map((e) => e.type === 'messages' && e.messages.length)).toEqual([
      1, 1, 3,
    ]);
  });

  it('a copy handed out is not changed by what arrives later', async () => {
    const { feed, host } = await joinedFeed([msg(1)]);
    const before = feed.snapshot();
    host.push({ type: 'message', message: msg(2) });
    expect(before.history.map((m) => m.seq)).toEqual([1]);
  });

  it('leaving empties it and tells the interface what the start screen shows', async () => {
    const { feed, events } = await joinedFeed([msg(1)]);
    feed.leave();
    expect(feed.snapshot()).toMatchObject({ room: null, history: [], connection: { kind: 'idle' } });
    expect(events.at(-1)).toEqual({ type: 'left', recentRooms: [], displayName: 'Me' });
  });

  it('holds this user’s own acknowledged messages too (the host does not echo them back)', async () => {
    const { feed, host } = await joinedFeed([msg(1)]);
    const receipt = feed.send('room', 'mine');
    const clientId = receipt.ok ? receipt.value.clientId : '';
    host.push({ type: 'ack', clientId, seq: 2, ts: 5 });
    expect(feed.snapshot().history.map((m) => [m.seq, m.from, m.text])).toEqual([
      [1, 'm_ann', 't1'],
      [2, 'm_me', 'mine'],
    ]);
    expect(feed.snapshot().outgoing).toEqual([]);
  });

  it('an own message is one outgoing event, then its status; the reply is only a receipt', async () => {
    const { feed, events } = await joinedFeed();
    const receipt = feed.send('room', 'hi');
    expect(receipt.ok && receipt.value).toEqual({ clientId: expect.any(String) });
    const outgoing = events.filter((e) => e.type === 'outgoing');
    expect(outgoing).toHaveLength(1);
    expect(outgoing[0]).toMatchObject({ message: { text: 'hi', status: 'pending' } });
  });
});
