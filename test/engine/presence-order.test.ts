/**
 * Presence as the others see it, on real sockets: nobody hears from a member
 * before hearing that they joined, and everyone hears when a member has gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HostFrame } from '../../src/shared/protocol.ts';
import { cleanup, joined, next, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

/** Where in `frames` the first frame satisfying `match` is; fails the test when there is none. */
function position(frames: readonly HostFrame[], what: string, match: (frame: HostFrame) => boolean): number {
  const index = frames.findIndex(match);
  if (index < 0) throw new Error(`${what} never arrived; got ${frames.map((frame) => frame.type).join(', ')}`);
  return index;
}

/** The presence news about member `id` that `frames` holds, in order. */
const presenceOf = (frames: readonly HostFrame[], id: string): string[] =>
  frames.flatMap((frame) => (frame.type === 'presence' && frame.member.id === id ? [frame.event] : []));

const announced = (id: string) => (frame: HostFrame) =>
  frame.type === 'presence' && frame.event === 'joined' && frame.member.id === id;

describe('a member who joins and speaks at once', () => {
  // The newcomer's frames follow its hello in the same burst, so they reach the host while the news of its
  // arrival is still waiting to be sent together with other joins: what is heard first is the host's choice.
  it.each([
    { what: 'a room message', frame: () => ({ type: 'send', clientId: 'c1', text: 'hi all' }), heard: 'message' },
    { what: 'a room typing notice', frame: () => ({ type: 'typing' }), heard: 'typing' },
    {
      what: 'a direct message',
      frame: (observer: string) => ({ type: 'send', clientId: 'c1', text: 'psst', to: observer }),
      heard: 'message',
    },
    {
      what: 'a direct typing notice',
      frame: (observer: string) => ({ type: 'typing', to: observer }),
      heard: 'typing',
    },
  ] as const)('is announced before $what from them reaches anyone', async ({ frame, heard }) => {
    const server = await startRoom();
    const observer = new RawPeer(server);
    const { you: me } = await observer.hello('Observer');
    const newcomer = new RawPeer(server);
    await newcomer.opened();
    newcomer.send({ type: 'hello', v: 1, name: 'Newcomer', code: '1234' });
    newcomer.send(frame(me.id));
    const { you: them } = await newcomer.frame('welcome');

    const fromThem =
      heard === 'message'
        ? await observer.frame('message', (f) => f.message.from === them.id)
        : await observer.frame('typing', (f) => f.from === them.id);
    const announcedAt = position(observer.frames, 'the news that they joined', announced(them.id));
    const heardAt = observer.frames.indexOf(fromThem);
    expect(announcedAt).toBeLessThan(heardAt);
    // Announced once: the news is not repeated after its coalescing wait.
    const again = new RawPeer(server);
    await again.hello('Later');
    await observer.frame('presence', (f) => f.event === 'joined' && f.member.name === 'Later');
    expect(observer.frames.filter(announced(them.id))).toHaveLength(1);
  });
});

describe('a member who goes', () => {
  it('leaving on purpose: the others are told "left"', async () => {
    const server = await startRoom();
    const observer = new RawPeer(server);
    await observer.hello('Observer');
    const leaver = await joined(server, 'Leaver');
    const id = leaver.me!.id;
    await observer.frame('presence', announced(id));
    leaver.close();
    const left = await observer.frame('presence', (f) => f.event === 'left' && f.member.id === id);
    expect(left.member.name).toBe('Leaver');
    // Straight to "left": never "reconnecting" on the way.
    expect(presenceOf(observer.frames, id)).toEqual(['joined', 'left']);
    expect(server.members().map((m) => m.name)).toEqual(['Observer']);
  });

  it('dropping off: the others are told "reconnecting", then "left" when the grace period ends', async () => {
    const server = await startRoom({ limits: { reconnectGraceMs: 200 } });
    const observer = new RawPeer(server);
    await observer.hello('Observer');
    const watcher = await joined(server, 'Watcher');
    const dropper = new RawPeer(server);
    const { you } = await dropper.hello('Dropper');
    const left = next(watcher, 'presence', (event, member) => event === 'left' && member.id === you.id);
    dropper.ws.terminate();
    await observer.frame('presence', (f) => f.event === 'left' && f.member.id === you.id);
    expect(presenceOf(observer.frames, you.id)).toEqual(['joined', 'reconnecting', 'left']);
    // A RoomClient hears it too, and so does the host's own list.
    await left;
    expect(server.members().map((m) => m.name)).toEqual(['Observer', 'Watcher']);
  });
});
