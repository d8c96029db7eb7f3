/**
 * Large rooms (protocol v1.6, issue 16), on a real host with raw sockets: a room is "large" here
 * above 5 members, so a handful of peers shows what 10,000 would. A 'members' client joining one
 * gets a short welcome and pages the rest; it hears presence only of itself, its direct-conversation
 * partners and whom it watches, plus coalesced counts; a client without 'members' notices nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type RoomLimits } from '../../src/host/options.ts';
import type { RoomServer } from '../../src/host/room-server.ts';
import type { HostFrame, Member } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

type Welcome = Extract<HostFrame, { type: 'welcome' }>;
type MembersPage = Extract<HostFrame, { type: 'membersPage' }>;

const SMALL: Partial<RoomLimits> = {
  fullPresenceMembers: 5,
  welcomeMembers: 3,
  rosterIntervalMs: 150,
  // Many peers from one address, joining at once: these tests are about what they hear, not about join floods.
  hellosPerSecond: 1_000,
  helloBurst: 1_000,
  newMembersPerHour: 100_000,
  newMemberBurst: 1_000,
  maxConnectionsPerAddress: 1_000,
  maxUnjoinedPerAddress: 1_000,
  malformedCloseAfter: 1_000,
};

const LEAN = ['channels', 'members'];

interface Peer {
  raw: RawPeer;
  welcome: Welcome;
  me: Member;
}

async function join(
  server: RoomServer,
  name: string,
  features: string[] = LEAN,
  resume?: { token: string; lastSeq: number },
): Promise<Peer> {
  const raw = new RawPeer(server);
  await raw.opened();
  raw.send({ type: 'hello', v: 1, name, code: '1234', features, ...(resume ? { resume } : {}) });
  const welcome = (await raw.frame('welcome')) as Welcome;
  return { raw, welcome, me: welcome.you };
}

let refs = 0;
async function ask(peer: Peer, request: Record<string, unknown>): Promise<MembersPage> {
  const ref = `r${++refs}`;
  peer.raw.send({ ref, ...request });
  return peer.raw.frame('membersPage', (frame) => frame.ref === ref);
}

async function errorFor(peer: Peer, request: Record<string, unknown>): Promise<Extract<HostFrame, { type: 'error' }>> {
  const ref = `r${++refs}`;
  peer.raw.send({ ref, ...request });
  return peer.raw.frame('error', (frame) => frame.ref === ref);
}

const presenceAbout = (peer: Peer, id: string): string[] =>
  peer.raw.frames.flatMap((frame) => (frame.type === 'presence' && frame.member.id === id ? [frame.event] : []));

const names = (members: readonly Member[]): string[] => members.map((member) => member.name);

/** Waits until `peer` has heard `event` about `id`: the barrier after which anything it was sent before has arrived. */
const heard = (peer: Peer, id: string, event: string) =>
  peer.raw.frame('presence', (frame) => frame.member.id === id && frame.event === event);

async function crowd(server: RoomServer, list: readonly string[], features = LEAN): Promise<Peer[]> {
  return Promise.all(list.map((name) => join(server, name, features)));
}

describe('joining a large room with a member list that pages', () => {
  it('the welcome lists me and the first names in order, says it is partial, and gives the counts', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['Zoe', 'bob', 'Émile', 'Dana', 'carl', 'Yusuf']);
    const me = await join(server, 'Ann');
    expect(me.welcome.membersPartial).toBe(true);
    expect(me.welcome.memberCount).toEqual({ total: 7, online: 7 });
    // Me, then the first three by name, case and accents aside: Ann (me again: once), bob, carl.
    expect(names(me.welcome.members)).toEqual(['Ann', 'bob', 'carl']);
  });

  it('the people I have written to privately are in my welcome even far down the list', async () => {
    const server = await startRoom({ limits: SMALL });
    const [zoe] = await crowd(server, ['Zoe', 'bob', 'carl', 'Dana', 'Emile']);
    const ann = await join(server, 'Ann');
    ann.raw.send({ type: 'send', clientId: 'c1', text: 'hi Zoe', to: zoe!.me.id });
    await ann.raw.frame('ack');
    ann.raw.send({ type: 'leave' });
    await ann.raw.closed;
    const back = await join(server, 'Ann', LEAN, { token: ann.welcome.token, lastSeq: ann.welcome.lastSeq });
    expect(back.welcome.resumed).toBe(true);
    expect(back.welcome.membersPartial).toBe(true);
    expect(names(back.welcome.members)).toEqual(['Ann', 'Zoe', 'bob', 'carl']);
  });

  it('at or below the limit I get everyone, and the counts too', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['Zoe', 'bob', 'carl', 'Dana']);
    const me = await join(server, 'Ann');
    expect(me.welcome.membersPartial).toBeUndefined();
    expect(me.welcome.memberCount).toEqual({ total: 5, online: 5 });
    expect(names(me.welcome.members).sort()).toEqual(['Ann', 'Dana', 'Zoe', 'bob', 'carl']);
  });

  it('an older client (no "members") in a large room still gets everyone and hears every join', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['A1', 'A2', 'A3', 'A4', 'A5', 'A6']);
    const old = await join(server, 'Old', ['channels']);
    expect(old.welcome.members).toHaveLength(7);
    expect(old.welcome.membersPartial).toBeUndefined();
    expect(old.welcome.memberCount).toBeUndefined();
    const late = await join(server, 'Late');
    await heard(old, late.me.id, 'joined');
    expect(old.raw.frames.some((frame) => frame.type === 'roster')).toBe(false);
  });
});

describe('paging and filtering the member list', () => {
  it('pages in name order, and a filter ignores case and accents, in any script', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['Émile', 'EMILIA', 'Zoe', 'bob', 'Jo Anaya', 'Ána', 'דוד כהן', 'سارة', 'emil']);
    const me = await join(server, 'Me');
    const all = await ask(me, { type: 'members' });
    expect(all.total).toBe(10);
    expect(names(all.members)).toEqual([
      'Ána',
      'bob',
      'emil',
      'Émile',
      'EMILIA',
      'Jo Anaya',
      'Me',
      'Zoe',
      // Code-unit order past Latin: Hebrew before Arabic.
      'דוד כהן',
      'سارة',
    ]);
    const second = await ask(me, { type: 'members', offset: 3, limit: 2 });
    expect(second).toMatchObject({ offset: 3, total: 10 });
    expect(names(second.members)).toEqual(['Émile', 'EMILIA']);
    expect(names((await ask(me, { type: 'members', query: 'EMIL' })).members)).toEqual(['emil', 'Émile', 'EMILIA']);
    expect(names((await ask(me, { type: 'members', query: 'ana' })).members)).toEqual(['Ána', 'Jo Anaya']);
    expect(names((await ask(me, { type: 'members', query: 'כה' })).members)).toEqual(['דוד כהן']);
    const nobody = await ask(me, { type: 'members', query: 'xyz' });
    expect(nobody).toMatchObject({ members: [], total: 0 });
    // Past the end: an empty page that still says how many there are.
    expect(await ask(me, { type: 'members', offset: 1_000_000 })).toMatchObject({ members: [], total: 10 });
  });

  it('someone who leaves is gone from the next page', async () => {
    const server = await startRoom({ limits: SMALL });
    const [gone] = await crowd(server, ['Gone', 'B', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    gone!.raw.send({ type: 'leave' });
    await gone!.raw.closed;
    await expect.poll(async () => names((await ask(me, { type: 'members', query: 'gone' })).members)).toEqual([]);
    expect((await ask(me, { type: 'members' })).total).toBe(6);
  });
});

describe('whose presence I hear in a large room', () => {
  it('only of those I watch: others come and go unheard, and a new watch replaces the old', async () => {
    const server = await startRoom({ limits: SMALL });
    const [watched, other] = await crowd(server, ['Watched', 'Other', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    const answer = await ask(me, { type: 'watch', ids: [watched!.me.id, 'm_nobody', watched!.me.id] });
    expect(answer).toMatchObject({ offset: 0, total: 1 });
    expect(names(answer.members)).toEqual(['Watched']);

    other!.raw.send({ type: 'status', status: 'away' });
    const stranger = await join(server, 'Stranger');
    watched!.raw.send({ type: 'status', status: 'away' });
    await heard(me, watched!.me.id, 'away');
    expect(presenceAbout(me, other!.me.id)).toEqual([]);
    expect(presenceAbout(me, stranger.me.id)).toEqual([]);

    await ask(me, { type: 'watch', ids: [other!.me.id] });
    watched!.raw.send({ type: 'status', status: 'online' });
    other!.raw.send({ type: 'status', status: 'online' });
    await heard(me, other!.me.id, 'back');
    expect(presenceAbout(me, watched!.me.id)).toEqual(['away']);
  });

  it('asking for a page while news of others is waiting to go out does not bring me that news', async () => {
    const server = await startRoom({ limits: SMALL });
    const [watched, other] = await crowd(server, ['Watched', 'Other', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    await ask(me, { type: 'watch', ids: [watched!.me.id] });
    // My request reaches the host within the 50 ms that Other's news waits to go out with more news:
    // its answer takes along the waiting news that is mine to hear, and only that.
    other!.raw.send({ type: 'status', status: 'away' });
    await ask(me, { type: 'members' });
    watched!.raw.send({ type: 'status', status: 'away' });
    await heard(me, watched!.me.id, 'away');
    expect(presenceAbout(me, other!.me.id)).toEqual([]);
  });

  it('of the people I write to privately, without watching them', async () => {
    const server = await startRoom({ limits: SMALL });
    const [friend, watched] = await crowd(server, ['Friend', 'Watched', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    await ask(me, { type: 'watch', ids: [watched!.me.id] });
    friend!.raw.send({ type: 'status', status: 'away' });
    watched!.raw.send({ type: 'status', status: 'away' });
    await heard(me, watched!.me.id, 'away');
    expect(presenceAbout(me, friend!.me.id)).toEqual([]);

    me.raw.send({ type: 'send', clientId: 'c1', text: 'psst', to: friend!.me.id });
    await friend!.raw.frame('message', (frame) => frame.message.text === 'psst');
    friend!.raw.send({ type: 'status', status: 'online' });
    await heard(me, friend!.me.id, 'back');
    // And they hear mine: the partnership goes both ways.
    me.raw.send({ type: 'status', status: 'away' });
    await heard(friend!, me.me.id, 'away');
  });

  it('strangers filling someone’s 200 partners cannot stop a friend who writes next from hearing their presence', async () => {
    const server = await startRoom({ limits: SMALL });
    const target = await join(server, 'Target');
    const friend = await join(server, 'Friend');
    const strangers = await crowd(
      server,
      Array.from({ length: 200 }, (_, i) => `Stranger ${i}`),
    );
    const wrote = async (stranger: Peer, i: number) => {
      stranger.raw.send({ type: 'send', clientId: `s${i}`, text: 'hi', to: target.me.id });
      await stranger.raw.frame('ack');
    };
    await wrote(strangers[0]!, 0);
    await Promise.all(strangers.slice(1).map((stranger, i) => wrote(stranger, i + 1)));
    friend.raw.send({ type: 'send', clientId: 'f1', text: 'hello, friend', to: target.me.id });
    await target.raw.frame('message', (frame) => frame.message.text === 'hello, friend');
    target.raw.send({ type: 'status', status: 'away' });
    await heard(friend, target.me.id, 'away');
    await heard(strangers[1]!, target.me.id, 'away');
    // Still at most 200: the one silent longest no longer hears it (a page's answer comes after any news queued for it).
    await ask(strangers[0]!, { type: 'members' });
    expect(presenceAbout(strangers[0]!, target.me.id)).toEqual([]);
  }, 30_000);

  it('after my connection is replaced by a new one of mine, I still hear my partner, and my watchers still hear me', async () => {
    const server = await startRoom({ limits: SMALL });
    const [friend] = await crowd(server, ['Friend', 'B', 'C', 'D', 'E', 'F']);
    const watcher = await join(server, 'Watcher');
    const me = await join(server, 'Me');
    me.raw.send({ type: 'send', clientId: 'c1', text: 'psst', to: friend!.me.id });
    await me.raw.frame('ack');
    await ask(watcher, { type: 'watch', ids: [me.me.id] });
    const again = await join(server, 'Me', LEAN, { token: me.welcome.token, lastSeq: me.welcome.lastSeq });
    expect(again.me.id).toBe(me.me.id);
    await me.raw.closed;
    friend!.raw.send({ type: 'status', status: 'away' });
    await heard(again, friend!.me.id, 'away');
    again.raw.send({ type: 'status', status: 'away' });
    await heard(watcher, me.me.id, 'away');
    await heard(friend!, me.me.id, 'away');
  });

  it('a watch sent in the same breath as the hello, before the welcome arrives, is served', async () => {
    const server = await startRoom({ limits: SMALL });
    const [watched] = await crowd(server, ['Watched', 'B', 'C', 'D', 'E', 'F']);
    const raw = new RawPeer(server);
    await raw.opened();
    raw.send({ type: 'hello', v: 1, name: 'Eager', code: '1234', features: LEAN });
    raw.send({ type: 'watch', ref: 'w1', ids: [watched!.me.id] });
    const welcome = (await raw.frame('welcome')) as Welcome;
    const eager: Peer = { raw, welcome, me: welcome.you };
    expect(names((await raw.frame('membersPage', (frame) => frame.ref === 'w1')).members)).toEqual(['Watched']);
    watched!.raw.send({ type: 'status', status: 'away' });
    await heard(eager, watched!.me.id, 'away');
  });

  it('my own status comes back to me', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['B', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    me.raw.send({ type: 'status', status: 'away' });
    await heard(me, me.me.id, 'away');
  });

  it('anyone may watch anyone: presence is public in a room', async () => {
    const server = await startRoom({ limits: SMALL });
    const [a, b] = await crowd(server, ['A', 'B', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    await ask(me, { type: 'watch', ids: [a!.me.id, b!.me.id] });
    b!.raw.send({ type: 'leave' });
    await heard(me, b!.me.id, 'left');
  });

  it('in a room at the limit I hear everyone, as before', async () => {
    const server = await startRoom({ limits: SMALL });
    const [a] = await crowd(server, ['A', 'B', 'C', 'D']);
    const me = await join(server, 'Me');
    a!.raw.send({ type: 'status', status: 'away' });
    await heard(me, a!.me.id, 'away');
  });
});

describe('the room counts', () => {
  it('a crowd arriving at once is told in a few roster frames, and "complete" flips both ways at the limit', async () => {
    const server = await startRoom({ limits: SMALL });
    const observer = await join(server, 'Observer');
    const crowdPeers = await crowd(
      server,
      Array.from({ length: 20 }, (_, i) => `P${i}`),
    );
    const final = await observer.raw.frame('roster', (frame) => frame.total === 21);
    expect(final).toMatchObject({ online: 21, complete: false });
    const rosters = observer.raw.frames.filter((frame) => frame.type === 'roster');
    // 20 joins, each a change: coalesced into a frame per interval (the join takes far less than 20 intervals).
    expect(rosters.length).toBeLessThan(6);

    for (const peer of crowdPeers.slice(0, 17)) peer.raw.send({ type: 'leave' });
    await Promise.all(crowdPeers.slice(0, 17).map((peer) => peer.raw.closed));
    const small = await observer.raw.frame('roster', (frame) => frame.total === 4);
    expect(small).toMatchObject({ online: 4, complete: true });
  });

  it('a member dropping off counts as not online while the others wait for it to come back', async () => {
    const server = await startRoom({ limits: { ...SMALL, reconnectGraceMs: 30_000 } });
    const [dropper] = await crowd(server, ['Dropper', 'B', 'C', 'D', 'E', 'F']);
    const observer = await join(server, 'Observer');
    dropper!.raw.ws.terminate();
    expect(await observer.raw.frame('roster', (frame) => frame.online === 6)).toMatchObject({
      total: 7,
      complete: false,
    });
  });

  it('a member told counts in its welcome hears the next change even if it undoes an earlier one', async () => {
    const server = await startRoom({ limits: { ...SMALL, rosterIntervalMs: 50 } });
    const first = await crowd(server, ['A', 'B', 'C', 'D', 'E', 'F']);
    const observer = await join(server, 'Observer');
    await observer.raw.frame('roster', (frame) => frame.total === 7);
    const newcomer = await join(server, 'Newcomer');
    expect(newcomer.welcome.memberCount?.total).toBe(8);
    first[0]!.raw.send({ type: 'leave' });
    newcomer.raw.send({ type: 'leave' });
    // Back to the 7 the last roster said: the newcomer's welcome said 8, so the observer-era frame is sent again.
    const later = await join(server, 'Later');
    expect(await later.raw.frame('roster', (frame) => frame.total === 7)).toMatchObject({ complete: false });
  });
});

describe('hostile member requests', () => {
  it.each([
    { what: 'a query of 10,000 characters', request: { type: 'members', query: 'a'.repeat(10_000) } },
    { what: 'an offset of 10⁹', request: { type: 'members', offset: 1e9 } },
    { what: 'a negative offset', request: { type: 'members', offset: -1 } },
    { what: 'a limit of 0', request: { type: 'members', limit: 0 } },
    { what: 'a limit of 10⁶', request: { type: 'members', limit: 1e6 } },
    { what: 'a fractional limit', request: { type: 'members', limit: 2.5 } },
    { what: 'a query that is not text', request: { type: 'members', query: { $ne: '' } } },
    {
      what: 'a watch of 201 ids',
      request: { type: 'watch', ids: Array.from({ length: 201 }, (_, i) => `m_${i}`) },
    },
    { what: 'a watch without ids', request: { type: 'watch' } },
    { what: 'a watch of an over-long id', request: { type: 'watch', ids: ['m_'.padEnd(5_000, 'x')] } },
  ])('$what is refused as malformed, and the list keeps working', async ({ request }) => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['A', 'B', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    expect((await errorFor(me, request)).code).toBe('BEACON_ERR_MALFORMED');
    expect((await ask(me, { type: 'members' })).total).toBe(7);
  });

  it('a flood of 1,000 page requests is rate limited and then cut off, and the others are still served', async () => {
    const server = await startRoom({ limits: { ...SMALL, floodCloseAfter: 50 } });
    await crowd(server, ['A', 'B', 'C', 'D', 'E', 'F']);
    const flooder = await join(server, 'Flooder');
    const bystander = await join(server, 'Bystander');
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000; i++) flooder.raw.send({ type: 'members', ref: `f${i}`, limit: 200 });
    const closed = await flooder.raw.closed;
    expect(closed.reason).toBe('BEACON_ERR_FLOODING');
    const answered = flooder.raw.frames.filter((frame) => frame.type === 'membersPage');
    // The burst (30) and no more: the rest were refused with a wait.
    expect(answered.length).toBeLessThanOrEqual(DEFAULT_LIMITS.memberRequestBurst + 2);
    const limited = flooder.raw.frames.find(
      (frame) => frame.type === 'error' && frame.code === 'BEACON_ERR_RATE_LIMITED',
    );
    expect(limited).toMatchObject({ ref: expect.stringMatching(/^f\d+$/), retryAfterMs: expect.any(Number) });
    expect((await ask(bystander, { type: 'members' })).total).toBe(8);
    // Nothing of the flood is held on to (generous: the test process shares its heap with the host).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('a watch of 10,000 ids is too big a frame: that connection is closed, and the room carries on', async () => {
    const server = await startRoom({ limits: SMALL });
    await crowd(server, ['A', 'B', 'C', 'D', 'E', 'F']);
    const me = await join(server, 'Me');
    const bystander = await join(server, 'Bystander');
    me.raw.send({ type: 'watch', ref: 'w', ids: Array.from({ length: 10_000 }, (_, i) => `m_${i}`) });
    expect((await me.raw.closed).code).toBe(1009);
    expect((await ask(bystander, { type: 'members' })).total).toBe(8);
  });

  it('requests from a connection that has not joined are refused', async () => {
    const server = await startRoom({ limits: SMALL });
    const stranger = new RawPeer(server);
    await stranger.opened();
    stranger.send({ type: 'members', ref: 'x1' });
    expect((await stranger.closed).reason).toBe('BEACON_ERR_NOT_JOINED');
  });
});
