/**
 * The v1.5 client against a host played frame by frame over a real WebSocket on loopback: what
 * the person notices of requests (answered, refused, lost, asked while offline), of a hostile host
 * (bad update, done and searchResults frames cost only themselves), and of resending a reply to a
 * channel after a reconnect. The host's real behaviour is in conversations-client-host.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import {
  type ChatMessage,
  type ClientFrame,
  DEFAULT_ROOM_LIMITS,
  encode,
  type HostFrame,
  type Update,
} from '../../src/shared/protocol.ts';
import { RoomClient, type RoomClientOptions } from '../../src/shared/room-client.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const me = { id: 'm_me', name: 'Me', status: 'online' as const, joinedAt: 1 };
const message = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  from: 'm_ann',
  to: null,
  text: `hello ${seq}`,
  ts: seq,
  clientId: `a${seq}`,
  ...over,
});
const channel = {
  id: 'c_0123456789abcdef',
  name: 'release',
  topic: '',
  createdBy: 'm_ann',
  createdAt: 1,
  archived: false,
};
const FEATURES = ['channels', 'replies', 'edits', 'reactions', 'mentions', 'search'];

/** A host that answers each hello with a welcome and lets the test say everything else. */
async function scriptedHost(welcome: Partial<Extract<HostFrame, { type: 'welcome' }>> = {}) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const received: ClientFrame[] = [];
  const sockets: WebSocket[] = [];
  let wake: (() => void) | null = null;
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ClientFrame;
      received.push(frame);
      if (frame.type === 'hello') {
        socket.send(
          encode({
            type: 'welcome',
            v: 1,
            room: { name: 'Team' },
            you: me,
            token: 't_me',
            resumed: frame.resume !== undefined,
            members: [me],
            history: [message(1)],
            hasMore: false,
            lastSeq: 1,
            limits: { ...DEFAULT_ROOM_LIMITS, pingIntervalMs: 60_000 },
            features: FEATURES,
            channels: [{ ...channel, id: 'room', name: 'general', createdBy: null }, channel],
            channelCreators: 'everyone',
            ...welcome,
          }),
        );
      }
      wake?.();
    });
  });
  const { port } = server.address() as { port: number };
  /** The first frame of `type` the client sent (after `from` frames), waiting for it. */
  const frame = async <T extends ClientFrame['type']>(
    type: T,
    from = 0,
  ): Promise<Extract<ClientFrame, { type: T }>> => {
    for (;;) {
      const found = received.slice(from).find((f) => f.type === type);
      if (found) return found as Extract<ClientFrame, { type: T }>;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const say = (raw: HostFrame | string | unknown[]): void =>
    sockets.at(-1)!.send(typeof raw === 'string' ? raw : JSON.stringify(raw));
  return { url: `ws://127.0.0.1:${port}/`, received, sockets, frame, say };
}

async function joinedClient(url: string, options: Partial<RoomClientOptions> = {}): Promise<RoomClient> {
  const client = new RoomClient({
    url,
    name: 'Me',
    socketFactory: wsSocketFactory,
    backoff: { initialMs: 20, maxMs: 20, factor: 1 },
    ...options,
  });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

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

describe('asking the host to change something', () => {
  it('says in its hello that it understands channels and (v1.6) paged members', async () => {
    const host = await scriptedHost();
    await joinedClient(host.url);
    expect(await host.frame('hello')).toMatchObject({ features: ['channels', 'members'] });
  });

  it('an edit is done once the host says done with its ref', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const asked = client.edit(1, 'hello, fixed', ['m_ann', 'm_ann']);
    const edit = await host.frame('edit');
    expect(edit).toMatchObject({ target: 1, text: 'hello, fixed', mentions: ['m_ann'] });
    host.say({ type: 'done', ref: edit.ref, seq: 7 });
    expect(await asked).toEqual({ ok: true, value: { seq: 7 } });
  });

  it('a refusal reaches the request it refers to, with the host’s reason, and nothing else', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const news: string[] = [];
    client.on('error', (error) => news.push(error.code));
    const asked = client.deleteMessage(1);
    const del = await host.frame('delete');
    host.say({ type: 'error', code: 'BEACON_ERR_NOT_YOURS', message: 'Only the author…', ref: del.ref });
    expect(await asked).toEqual({
      ok: false,
      error: { code: 'BEACON_ERR_NOT_YOURS', message: 'Only the author…' },
    });
    expect(news).toEqual([]);
  });

  it('several requests at once are each answered by their own ref, in any order', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const first = client.react(1, '👍', true);
    const second = client.channel({ op: 'create', name: 'ops' });
    const react = await host.frame('react');
    const create = await host.frame('channel');
    const made = { ...channel, id: 'c_aaaaaaaaaaaaaaaa', name: 'ops' };
    host.say([
      { type: 'done', ref: create.ref, seq: 9, channel: made },
      { type: 'done', ref: react.ref, seq: 8 },
    ]);
    expect(await first).toEqual({ ok: true, value: { seq: 8 } });
    expect(await second).toEqual({ ok: true, value: { seq: 9, channel: made } });
  });

  it('a host that never answers: the request fails with BEACON_ERR_TIMEOUT', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url, { requestTimeoutMs: 200 });
    const started = Date.now();
    const answer = await client.react(1, '🎉', true);
    expect(answer).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_TIMEOUT' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('asked while not connected, a request fails at once and is never sent later', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const reconnecting = new Promise<void>((resolve) =>
      client.on('state', (state) => state.kind === 'reconnecting' && resolve()),
    );
    host.sockets[0]!.terminate();
    await reconnecting;
    const answers = await answeredAtOnce([
      client.edit(1, 'x'),
      client.deleteMessage(1),
      client.react(1, '👍', true),
      client.channel({ op: 'create', name: 'later' }),
      client.search({ query: 'hello' }),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OFFLINE' } });
    // Back in the room: nothing of what was asked offline goes out.
    const welcomed = new Promise<void>((resolve) => client.on('welcome', () => resolve()));
    await welcomed;
    const after = host.received.filter((f) => ['edit', 'delete', 'react', 'channel', 'search'].includes(f.type));
    expect(after).toEqual([]);
  });

  it('a request in flight when the connection drops fails with BEACON_ERR_OFFLINE, not after a timeout', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const asked = client.search({ query: 'build' });
    await host.frame('search');
    const started = Date.now();
    host.sockets[0]!.terminate();
    expect(await asked).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OFFLINE' } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a host without the feature (an older Beacon) is not asked at all', async () => {
    const host = await scriptedHost({ features: undefined, channels: undefined, channelCreators: undefined });
    const client = await joinedClient(host.url);
    expect(await client.search({ query: 'x' })).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OLD_HOST' } });
    expect(await client.edit(1, 'x')).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OLD_HOST' } });
    expect(host.received.map((f) => f.type)).not.toContain('edit');
  });

  it('reacting faster than the room allows fails at once instead of making the host refuse messages', async () => {
    const host = await scriptedHost({ limits: { ...DEFAULT_ROOM_LIMITS, messagesPerSecond: 1, messageBurst: 6 } });
    // The one that goes is never answered here: it fails quickly instead of holding the test.
    const client = await joinedClient(host.url, { requestTimeoutMs: 100 });
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => client.react(1, '👍', true).then((a) => (a.ok ? 'sent' : a.error.code))),
    );
    // A burst of 6 keeps a margin of 5 (the outbox's), so one goes and the rest wait for the person.
    expect(answers.filter((a) => a === 'BEACON_ERR_RATE_LIMITED')).toHaveLength(2);
    expect(host.received.filter((f) => f.type === 'react')).toHaveLength(1);
  });
});

describe('a hostile host', () => {
  it('malformed update, done and searchResults frames are dropped; the client goes on and answers stay theirs', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const updates: Update[] = [];
    client.on('update', (update) => updates.push(update));
    const searching = client.search({ query: 'hello' });
    const search = await host.frame('search');
    const editing = client.edit(1, 'new');
    const edit = await host.frame('edit');
    const junk: unknown[] = [
      { type: 'update' },
      { type: 'update', update: { kind: 'edit', seq: -1, ts: 1, by: 'm_ann', target: 1, text: 'x' } },
      {
        type: 'update',
        update: { kind: 'react', seq: 5, ts: 1, by: 'm_ann', target: 1, emoji: 'not an emoji', on: true },
      },
      { type: 'update', update: { kind: 'explode', seq: 5, ts: 1, by: 'm_ann' } },
      { type: 'update', update: { kind: 'channel', seq: 5, ts: 1, by: 'm_ann', channel: { id: '../etc' } } },
      { type: 'done', ref: edit.ref },
      { type: 'done', ref: { $ne: null }, seq: 3 },
      // The right ref, the wrong kind of answer: a search is not answered by done, nor an edit by hits.
      { type: 'done', ref: search.ref, seq: 3 },
      { type: 'searchResults', ref: edit.ref, hits: [], hasMore: false },
      { type: 'searchResults', ref: search.ref, hits: 'lots', hasMore: false },
      { type: 'searchResults', ref: search.ref, hits: [{ message: message(1) }], hasMore: false },
      { type: 'done', ref: 'r_nobody_asked', seq: 4 },
      '{"type":"update","update":' + '['.repeat(100_000),
      'not json at all',
    ];
    for (const frame of junk) host.say(typeof frame === 'string' ? frame : [frame]);
    // Then the real answers, which still find their requests.
    host.say({ type: 'done', ref: edit.ref, seq: 6 });
    host.say({
      type: 'searchResults',
      ref: search.ref,
      hasMore: false,
      hits: [{ message: message(1), highlights: [[0, 5]], before: [], after: [] }],
    });
    expect(await editing).toEqual({ ok: true, value: { seq: 6 } });
    expect(await searching).toMatchObject({ ok: true, value: { hits: [{ highlights: [[0, 5]] }] } });
    expect(updates).toEqual([]);
    expect(client.state.kind).toBe('connected');
    expect(client.lastSeq).toBe(1);
  });

  it('highlights outside the text, backwards, overlapping or fractional are left out; the hit stays', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const searching = client.search({ query: 'hello' });
    const search = await host.frame('search');
    const hit = message(1, { text: 'hello world' });
    host.say({
      type: 'searchResults',
      ref: search.ref,
      hasMore: false,
      hits: [
        {
          message: hit,
          highlights: [
            [-3, 2],
            [0, 5],
            [3, 4],
            [6, 6],
            [6, 11],
            [7, 9],
            [8, 1e9],
            [1.5, 2],
          ],
          before: [],
          after: [],
        },
      ],
    });
    const answer = await searching;
    expect(answer.ok && answer.value.hits[0]!.highlights).toEqual([
      [0, 5],
      [6, 11],
    ]);
  });

  it('an answer with more hits than a page holds is cut to a page', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const searching = client.search({ query: 'hello' });
    const search = await host.frame('search');
    const hit = { message: message(1), highlights: [], before: [], after: [] };
    host.say({
      type: 'searchResults',
      ref: search.ref,
      hasMore: false,
      hits: Array.from({ length: 5_000 }, () => hit),
    });
    const answer = await searching;
    expect(answer.ok && answer.value.hits).toHaveLength(50);
  });

  it('an update frame for a message the client never saw moves the resume position but breaks nothing', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const seen = new Promise<Update>((resolve) => client.on('update', resolve));
    host.say({ type: 'update', update: { kind: 'delete', seq: 40, ts: 2, by: 'm_ann', target: 999 } });
    expect((await seen).seq).toBe(40);
    expect(client.lastSeq).toBe(40);
  });
});

describe('a reply to a channel typed while offline', () => {
  it('is sent after the reconnect as the very same frame: channel, reply and mentions included', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    const reconnecting = new Promise<void>((resolve) =>
      client.on('state', (state) => state.kind === 'reconnecting' && resolve()),
    );
    host.sockets[0]!.terminate();
    await reconnecting;
    const sent = client.send('@Ann yes', null, channel.id, undefined, {
      channel: channel.id,
      replyTo: 1,
      mentions: ['m_ann'],
    });
    expect(sent).toMatchObject({ status: 'pending', replyTo: 1, mentions: ['m_ann'] });
    const frame = await host.frame('send');
    expect(frame).toEqual({
      type: 'send',
      clientId: sent.clientId,
      to: null,
      text: '@Ann yes',
      channel: channel.id,
      replyTo: 1,
      mentions: ['m_ann'],
    });
    // Dropped again before the ack: the resend is identical (the host stores a clientId once).
    const sendsBefore = host.received.length;
    host.sockets.at(-1)!.terminate();
    const again = await host.frame('send', sendsBefore);
    expect(again).toEqual(frame);
  });

  it('typing in a channel says which channel; in the default one it says none', async () => {
    const host = await scriptedHost();
    const client = await joinedClient(host.url);
    client.typing(null, channel.id);
    expect(await host.frame('typing')).toEqual({ type: 'typing', to: null, channel: channel.id });
    const count = host.received.length;
    client.typing(null, 'room');
    expect(await host.frame('typing', count)).toEqual({ type: 'typing', to: null });
  });
});
