/**
 * The clients of protocol v1.6 (large rooms) against a real host on loopback with small limits (a
 * room is "large" above 3 members): the desktop app and the shared feed page and filter the member
 * list, watched members' presence arrives and keeps arriving after a reconnect, the counts arrive as
 * roster events, and a host that never heard of 'members' is paged by the client itself.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomLimits } from '../../src/host/options.ts';
import { DesktopChat } from '../../src/main/desktop-chat.ts';
import { SettingsFile } from '../../src/main/settings.ts';
import { wsSocketFactory } from '../../src/node/ws-socket.ts';
import type { ChatEvent } from '../../src/shared/chat-api.ts';
import { ChatFeed } from '../../src/shared/chat-feed.ts';
import type { Member } from '../../src/shared/protocol.ts';
import type { RoomClient, SocketFactory, SocketLike } from '../../src/shared/room-client.ts';
import { cleanup, joined, next, roomAddress, startRoom, tempDir } from '../helpers/room.ts';
import { tcpProxy } from '../helpers/tcp-proxy.ts';

/** Large above 3 members; a welcome lists the first 2 by name; counts at most every 50 ms. */
const SMALL: Partial<RoomLimits> = {
  fullPresenceMembers: 3,
  welcomeMembers: 2,
  rosterIntervalMs: 50,
  hellosPerSecond: 1_000,
  helloBurst: 1_000,
};

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cleanup();
});

/** A room of seven: five members already in it, names chosen so case and accents matter to the order. */
async function largeRoom(limits: Partial<RoomLimits> = {}) {
  const server = await startRoom({ limits: { ...SMALL, ...limits } });
  const people: Record<string, RoomClient> = {};
  for (const name of ['Zoe', 'ana', 'Ána Lima', 'Bob', 'Carl', 'Dave']) people[name] = await joined(server, name);
  const id = (name: string): string => people[name]!.me!.id;
  return { server, people, id };
}

function desktopApp() {
  const dir = tempDir();
  const events: ChatEvent[] = [];
  const session = new DesktopChat({
    settings: new SettingsFile(join(dir, 'settings.json')),
    roomsDir: join(dir, 'rooms'),
    emit: (event) => events.push(event),
    hostBind: '127.0.0.1',
    discovery: false,
  });
  closers.push(() => session.shutdown());
  return { session, events };
}

/** A feed as the browser and desktop clients use it, over real sockets (through `socketFactory` when given). */
function feed(options: { socketFactory?: SocketFactory; requestTimeoutMs?: number } = {}) {
  const events: ChatEvent[] = [];
  const chat = new ChatFeed({
    socketFactory: options.socketFactory ?? wsSocketFactory,
    emit: (event) => events.push(event),
    startInfo: () => ({ recentRooms: [], displayName: '' }),
    clientOptions: options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {},
  });
  closers.push(() => chat.leave());
  return { chat, events };
}

/**
 * A socket factory between the client and a real host that records what the client writes, and can
 * make the host look older than v1.6 (it never hears 'members', so it sends everyone and ignores
 * members and watch requests, as a v1.5 host does) or deaf to member requests only.
 */
function between(mode: 'older host' | 'deaf to members' | 'as is') {
  const written: { type: string; ref?: string; ids?: string[] }[] = [];
  let latest: SocketLike | null = null;
  const factory: SocketFactory = (url, options) => {
    const socket: SocketLike = wsSocketFactory(url, options);
    latest = socket;
    const send = socket.send.bind(socket);
    socket.send = (data: string) => {
      const frame = JSON.parse(data) as { type: string; features?: string[] };
      written.push(frame);
      if (mode === 'older host' && frame.type === 'hello') {
        frame.features = frame.features?.filter((feature) => feature !== 'members');
        return send(JSON.stringify(frame));
      }
      if (mode !== 'as is' && (frame.type === 'members' || frame.type === 'watch')) return;
      send(data);
    };
    return socket;
  };
  /** A frame as if the host had sent it (anyone in the middle could). */
  const inject = (frame: unknown): void =>
    latest?.onmessage?.(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const lastRef = (type: string): string => written.findLast((frame) => frame.type === type)!.ref!;
  return { factory, written, inject, lastRef };
}

const names = (members: readonly Member[]): string[] => members.map((member) => member.name);

describe('the member list of a large room', { timeout: 30_000 }, () => {
  it('the desktop app shows how many are here, and pages and filters the list in name order', async () => {
    const { server } = await largeRoom();
    const me = desktopApp();
    expect((await me.session.join({ address: roomAddress(server), name: 'Me', code: '1234' })).ok).toBe(true);

    const state = await me.session.getState();
    if (!state.ok || !state.value.room) throw new Error('no room');
    const room = state.value.room;
    expect(room.memberCount).toEqual({ total: 7, online: 7 });
    expect(room.membersPartial).toBe(true);
    // Only me and the first two by name: case and accents do not count, "ana" comes before "ana lima".
    expect(names(room.members).sort()).toEqual(['Me', 'ana', 'Ána Lima'].sort());
    const welcome = me.events.find((event) => event.type === 'welcome');
    expect(welcome?.type === 'welcome' && welcome.room).toMatchObject({
      memberCount: { total: 7 },
      membersPartial: true,
    });

    const all = await me.session.members({});
    expect(all.ok && { names: names(all.value.members), total: all.value.total }).toEqual({
      names: ['ana', 'Ána Lima', 'Bob', 'Carl', 'Dave', 'Me', 'Zoe'],
      total: 7,
    });
    const second = await me.session.members({ offset: 2, limit: 2 });
    expect(second.ok && { names: names(second.value.members), offset: second.value.offset }).toEqual({
      names: ['Bob', 'Carl'],
      offset: 2,
    });
    const anas = await me.session.members({ query: 'ANA' });
    expect(anas.ok && { names: names(anas.value.members), total: anas.value.total }).toEqual({
      names: ['ana', 'Ána Lima'],
      total: 2,
    });
    const nobody = await me.session.members({ query: 'Quentin' });
    expect(nobody.ok && nobody.value).toEqual({ members: [], offset: 0, total: 0 });
  });

  it('a watched member’s presence arrives, and an unwatched one’s does not', async () => {
    const { server, people, id } = await largeRoom();
    const me = desktopApp();
    await me.session.join({ address: roomAddress(server), name: 'Me', code: '1234' });

    // ana is in the welcome's first page but not watched: her going away is news the app does not get…
    people['ana']!.setStatus('away');
    people['ana']!.send('brb', null, 'room');
    await expect
      .poll(() => me.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.text === 'brb')))
      .toBe(true);
    const statusOf = async (name: string) => {
      const state = await me.session.getState();
      return state.ok && state.value.room!.members.find((member) => member.name === name)?.status;
    };
    expect(await statusOf('ana')).toBe('online');
    // …until she is watched: the answer says how she is now, and the app's list with it.
    const watched = await me.session.watchMembers({ ids: [id('Carl'), id('ana'), 'm_nobodyhere00000000000'] });
    expect(watched.ok && names(watched.value.members).sort()).toEqual(['Carl', 'ana']);
    expect(await statusOf('ana')).toBe('away');

    people['Dave']!.setStatus('away');
    people['Carl']!.setStatus('away');
    const presenceOf = (name: string) =>
      me.events
        .filter((e) => e.type === 'presence' && e.member.name === name)
        .map((e) => e.type === 'presence' && e.event);
    await expect.poll(() => presenceOf('Carl')).toEqual(['away']);
    // Dave's own frames arrive in order: once his message is here, his 'away' would have been before it.
    people['Dave']!.send('still here', null, 'room');
    await expect
      .poll(() => me.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.text === 'still here')))
      .toBe(true);
    expect(presenceOf('Dave')).toEqual([]);
    // What the app knows of the room: the welcome's list and the presence since.
    const state = await me.session.getState();
    expect(state.ok && names(state.value.room!.members).sort()).toEqual(['Carl', 'Me', 'ana', 'Ána Lima'].sort());
  });

  it('the watched set survives a dropped connection: news of it keeps arriving after the reconnect', async () => {
    const { server, people, id } = await largeRoom();
    const proxy = await tcpProxy(server.port);
    closers.push(() => proxy.close());
    const { chat, events } = feed();
    expect((await chat.join({ address: `ws://127.0.0.1:${proxy.port}/`, name: 'Me', code: '1234' })).ok).toBe(true);
    expect((await chat.watchMembers({ ids: [id('Carl')] })).ok).toBe(true);

    const client = chat.client!;
    const rewatched = next(client, 'watched');
    proxy.freeze();
    proxy.thaw(); // every connection through the proxy is cut
    await next(client, 'welcome');
    const [members] = await rewatched;
    expect(names(members)).toEqual(['Carl']);

    people['Carl']!.setStatus('away');
    await expect
      .poll(() => events.some((e) => e.type === 'presence' && e.member.name === 'Carl' && e.event === 'away'))
      .toBe(true);

    // Rows chosen while offline: refused now, and watched from the next connection on.
    proxy.refuse();
    await expect.poll(() => client.state.kind).not.toBe('connected');
    const whileAway = await chat.watchMembers({ ids: [id('Carl'), id('Dave')] });
    expect(whileAway.ok || whileAway.error.code).toBe('BEACON_ERR_OFFLINE');
    const watchedAgain = next(client, 'watched');
    proxy.accept();
    chat.retryNow();
    const [again] = await watchedAgain;
    expect(names(again).sort()).toEqual(['Carl', 'Dave']);
    people['Dave']!.setStatus('away');
    await expect
      .poll(() => events.some((e) => e.type === 'presence' && e.member.name === 'Dave' && e.event === 'away'))
      .toBe(true);
  });

  it('the counts arrive as roster events, and the list is whole again once the room is small', async () => {
    const { server, people } = await largeRoom();
    const { chat, events } = feed();
    await chat.join({ address: roomAddress(server), name: 'Me', code: '1234' });
    const rosters = () => events.flatMap((e) => (e.type === 'roster' ? [e] : []));

    const eve = await joined(server, 'Eve');
    await expect.poll(() => rosters().at(-1)).toEqual({ type: 'roster', total: 8, online: 8, complete: false });
    expect(chat.snapshot().room?.memberCount).toEqual({ total: 8, online: 8 });

    // Down to three: the room is complete again, and the feed reads the whole list anew (those who
    // left were in its welcome list, but their leaving was no news to it while the room was large).
    for (const person of [eve, people['ana']!, people['Ána Lima']!, people['Carl']!, people['Dave']!]) person.close();
    await expect.poll(() => rosters().at(-1)).toMatchObject({ total: 3, complete: true });
    await expect.poll(() => names(chat.snapshot().room?.members ?? []).sort()).toEqual(['Bob', 'Me', 'Zoe']);
    expect(chat.snapshot().room?.membersPartial).toBe(false);
  });

  it('a host older than v1.6 sent everyone: the client pages and filters its own list the same way', async () => {
    const { server, id } = await largeRoom();
    const older = between('older host');
    const { chat } = feed({ socketFactory: older.factory });
    await chat.join({ address: roomAddress(server), name: 'Me', code: '1234' });

    const room = chat.snapshot().room!;
    expect(room.memberCount).toBeUndefined();
    expect(room.membersPartial).toBeUndefined();
    expect(room.members).toHaveLength(7);

    const anas = await chat.members({ query: 'ána' });
    expect(anas.ok && { names: names(anas.value.members), total: anas.value.total }).toEqual({
      names: ['ana', 'Ána Lima'],
      total: 2,
    });
    const page = await chat.members({ offset: 5, limit: 50 });
    expect(page.ok && { names: names(page.value.members), offset: 5, total: page.value.total }).toEqual({
      names: ['Me', 'Zoe'],
      offset: 5,
      total: 7,
    });
    const watched = await chat.watchMembers({ ids: [id('Carl'), 'm_nobodyhere00000000000'] });
    expect(watched.ok && names(watched.value.members)).toEqual(['Carl']);
    // Nothing asked of a host that would never answer.
    expect(older.written.filter((frame) => frame.type === 'members' || frame.type === 'watch')).toEqual([]);

    // The list follows presence: who joins is found, who leaves is not.
    const eve = await joined(server, 'Eve');
    await expect.poll(() => names(chat.snapshot().room?.members ?? [])).toContain('Eve');
    const eves = await chat.members({ query: 'eve' });
    expect(eves.ok && names(eves.value.members)).toEqual(['Eve']);
    eve.close();
    await expect.poll(() => names(chat.snapshot().room?.members ?? [])).not.toContain('Eve');
    const after = await chat.members({ query: 'eve' });
    expect(after.ok && after.value.total).toBe(0);
  });

  it('a host that never answers: members fails with a timeout; offline it fails at once', async () => {
    const { server } = await largeRoom();
    const deaf = between('deaf to members');
    const { chat } = feed({ socketFactory: deaf.factory, requestTimeoutMs: 300 });
    await chat.join({ address: roomAddress(server), name: 'Me', code: '1234' });
    const answer = await chat.members({ query: 'ana' });
    expect(answer.ok || answer.error.code).toBe('BEACON_ERR_TIMEOUT');

    const proxy = await tcpProxy(server.port);
    closers.push(() => proxy.close());
    const other = feed();
    await other.chat.join({ address: `ws://127.0.0.1:${proxy.port}/`, name: 'Away', code: '1234' });
    proxy.refuse();
    await expect.poll(() => other.chat.client?.state.kind).not.toBe('connected');
    // "At once": answered before the event loop turns (no socket, no timer).
    const turn = new Promise((resolve) => setImmediate(() => resolve('the loop turned')));
    const offline = await Promise.race([other.chat.members({}), turn]);
    expect(offline).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OFFLINE' } });
    const watchOffline = await Promise.race([other.chat.watchMembers({ ids: [] }), turn]);
    expect(watchOffline).toMatchObject({ ok: false, error: { code: 'BEACON_ERR_OFFLINE' } });
  });

  it('asking too fast is refused with how long to wait', async () => {
    const { server } = await largeRoom({ memberRequestsPerSecond: 1, memberRequestBurst: 2 });
    const { chat } = feed();
    await chat.join({ address: roomAddress(server), name: 'Me', code: '1234' });
    const answers = await Promise.all([1, 2, 3, 4].map(() => chat.members({})));
    const refused = answers.flatMap((answer) => (answer.ok ? [] : [answer.error]));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(2);
    expect(refused).toHaveLength(2);
    for (const error of refused) {
      expect(error.code).toBe('BEACON_ERR_RATE_LIMITED');
      expect(error.retryAfterMs).toBeGreaterThan(0);
    }
  });
});

describe('what a host (or anyone in the middle) sends about members', { timeout: 30_000 }, () => {
  it('a page of 10,000 members is cut to 200; lookalike, unknown and malformed answers settle nothing', async () => {
    const server = await startRoom({ limits: SMALL });
    const middle = between('deaf to members');
    const me = await joined(server, 'Me', { socketFactory: middle.factory, requestTimeoutMs: 5_000 });
    const errors: unknown[] = [];
    me.on('error', (error) => errors.push(error));
    const member = (i: number): Member => ({
      id: `m_${String(i).padStart(22, '0')}`,
      name: `Person ${i}`,
      status: 'online',
      joinedAt: 1,
    });

    let settled = false;
    const asked = me.members({}).then((answer) => ((settled = true), answer));
    const ref = middle.lastRef('members');
    middle.inject({ type: 'membersPage', ref: 'r_someoneelses', members: [member(1)], offset: 0, total: 1 });
    middle.inject({ type: 'done', ref, seq: 1 });
    middle.inject({ type: 'membersPage', ref, members: [member(1)], offset: 0, total: -1 });
    middle.inject(`{"type":"membersPage","ref":"${ref}","members":[{"id":"x"}],"offset":0,"total":1}`);
    middle.inject({ type: 'roster', total: -5, online: 0, complete: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(me.memberCount).toEqual({ total: 1, online: 1 });

    middle.inject({
      type: 'membersPage',
      ref,
      members: Array.from({ length: 10_000 }, (_, i) => member(i)),
      offset: 0,
      total: 10_000,
    });
    const answer = await asked;
    expect(answer.ok && { shown: answer.value.members.length, total: answer.value.total }).toEqual({
      shown: 200,
      total: 10_000,
    });
    // The same answer again (a replay) finds nothing waiting for it.
    middle.inject({ type: 'membersPage', ref, members: [], offset: 0, total: 0 });
    expect(errors).toEqual([]);
  });

  it('a host claiming billions of members cannot make the list draw billions of rows', async () => {
    // The renderer builds one row index per member of `total` (MemberList.svelte): 2^32 of them
    // throws "Invalid array length", 10^9 exhausts memory. No request can page past offset 10^6.
    const server = await startRoom({ limits: SMALL });
    const middle = between('deaf to members');
    const me = await joined(server, 'Me', { socketFactory: middle.factory, requestTimeoutMs: 5_000 });
    const rosters: { total: number; online: number }[] = [];
    me.on('roster', (counts) => rosters.push(counts));
    const asked = me.members({});
    middle.inject({ type: 'membersPage', ref: middle.lastRef('members'), members: [], offset: 0, total: 2 ** 32 });
    const answer = await asked;
    expect(answer.ok && answer.value.total).toBeLessThanOrEqual(1_000_200);
    middle.inject({ type: 'roster', total: 1e300, online: 1e300, complete: false });
    expect(me.memberCount!.total).toBeLessThanOrEqual(1_000_200);
    expect(rosters[0]!.total).toBeLessThanOrEqual(1_000_200);
    expect(rosters[0]!.online).toBeLessThanOrEqual(rosters[0]!.total);
  });

  it('a page naming one member twice is answered with them once (lists keyed by id would throw)', async () => {
    // The @ picker draws the page with {#each ... (member.id)}: Svelte throws each_key_duplicate, in production too.
    const server = await startRoom({ limits: SMALL });
    const middle = between('deaf to members');
    const me = await joined(server, 'Me', { socketFactory: middle.factory, requestTimeoutMs: 5_000 });
    const twin: Member = { id: `m_${'1'.repeat(22)}`, name: 'Twin', status: 'online', joinedAt: 1 };
    const asked = me.members({ limit: 8 });
    middle.inject({
      type: 'membersPage',
      ref: middle.lastRef('members'),
      members: [twin, { ...twin, name: 'Twin again' }, twin],
      offset: 0,
      total: 3,
    });
    const answer = await asked;
    expect(answer.ok && names(answer.value.members)).toEqual(['Twin']);
  });

  it('a watch of more than 200 ids, or the same id many times, goes as at most 200 distinct ids', async () => {
    const server = await startRoom({ limits: SMALL });
    const middle = between('as is');
    const me = await joined(server, 'Me', { socketFactory: middle.factory });
    const ids = Array.from({ length: 1_000 }, (_, i) => `m_${String(i % 300).padStart(22, '0')}`);
    expect((await me.watch(ids)).ok).toBe(true);
    const sent = middle.written.findLast((frame) => frame.type === 'watch')!;
    expect(sent.ids).toHaveLength(200);
    expect(new Set(sent.ids).size).toBe(200);
  });
});

describe('the terminal client in a large room', { timeout: 90_000 }, () => {
  it('/who says how many are here and shows the first screenful; /who NAME and /dm NAME find anyone', async () => {
    const server = await startRoom({ limits: SMALL });
    for (let i = 1; i <= 23; i++) await joined(server, `Person ${String(i).padStart(2, '0')}`);
    const zed = await joined(server, 'Zed');
    const child = spawn(process.execPath, ['src/cli/join.ts', roomAddress(server), '--name', 'bot', '--code', '1234']);
    closers.push(() => child.kill('SIGKILL'));
    const stdout: string[] = [];
    const stderr: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    await expect
      .poll(() => stderr.some((line) => line.includes('joined "Test room" as bot; 25 here')), { timeout: 30_000 })
      .toBe(true);

    child.stdin.write('/who\n');
    await expect
      .poll(() => stdout.includes('  … and 5 more: /who NAME to find someone'), { timeout: 10_000 })
      .toBe(true);
    expect(stdout.slice(0, 22)).toEqual([
      '25 people here (25 online)',
      '  bot (you)',
      ...Array.from({ length: 19 }, (_, i) => `  Person ${String(i + 1).padStart(2, '0')}`),
      '  … and 5 more: /who NAME to find someone',
    ]);

    child.stdin.write('/who zE\n');
    await expect.poll(() => stdout.slice(22), { timeout: 10_000 }).toEqual(['1 person called "zE"', '  Zed']);

    // Zed was in no page the terminal was sent: /dm asks the host who is called that.
    const arrived = next(zed, 'message', (message) => message.text === 'found you');
    child.stdin.write('/dm Zed found you\n');
    const [message] = await arrived;
    expect(message.to).toBe(zed.me!.id);
  });
});
