/**
 * The host's outgoing path, on fake sockets and fake time: what each member's
 * socket is asked to write, when, and in which order.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../src/shared/protocol.ts';
import { type Outlet, PRESENCE_COALESCE_MS, TickWriter } from '../../src/host/tick-writer.ts';

const OPEN = 1;
const CLOSING = 2;

/** The part of a `ws` WebSocket the writer uses, recording what it is asked to do. */
class FakeSocket {
  readyState = OPEN;
  /** Bytes the peer has not read yet: set by the test. */
  bufferedAmount = 0;
  readonly sent: (string | Buffer)[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  terminated = 0;

  send(data: string | Buffer): void {
    this.sent.push(data);
  }

  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.readyState = CLOSING;
  }

  terminate(): void {
    this.terminated += 1;
  }

  /** What was written, as text. */
  get texts(): string[] {
    return this.sent.map(String);
  }
}

interface FakeOutlet extends Outlet {
  socket: FakeSocket;
}

function outlet(): FakeOutlet {
  const socket = new FakeSocket();
  // The one place the fake stands in for a real WebSocket.
  const ws = socket as unknown as WebSocket;
  return { ws, socket, pending: [], pendingChars: 0, hasOwnFrames: false, presenceSeen: 0, routedPresence: false };
}

/** A JSON frame, as the host queues them. */
const frame = (name: string, size = 0): string => JSON.stringify({ type: name, pad: 'x'.repeat(size) });
const batch = (...frames: string[]): string => `[${frames.join(',')}]`;

/** A room of members and the writer that serves them. */
function room(count: number, options: { maxBufferedBytes?: number } = {}) {
  const members = Array.from({ length: count }, outlet);
  const slow: Outlet[] = [];
  const writer = new TickWriter({
    maxBufferedBytes: options.maxBufferedBytes ?? 1_000_000,
    audience: () => members,
    onSlowReader: (dropped) => slow.push(dropped),
  });
  return { writer, members, slow };
}

/**
 * Ends the current tick: runs the one setImmediate the writer flushes on, and
 * nothing after it. (Under fake timers an immediate scheduled from inside a
 * timer is due 1 ms later, so `advanceTimersByTime(0)` would not reach it.)
 */
const endOfTick = (): void => {
  vi.advanceTimersToNextTimer();
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('one write per member per tick', () => {
  it('a member with several frames in a tick gets them in one write, as a JSON array', () => {
    const { writer, members } = room(1);
    const [ann] = members as [FakeOutlet];
    writer.queue(ann, frame('ack'));
    writer.queue(ann, frame('pong'));
    writer.queue(ann, frame('history'));
    expect(ann.socket.sent).toEqual([]);
    endOfTick();
    expect(ann.socket.texts).toEqual([batch(frame('ack'), frame('pong'), frame('history'))]);
    expect(JSON.parse(ann.socket.texts[0]!)).toHaveLength(3);
  });

  it('a single frame is written as it is, not wrapped in an array', () => {
    const { writer, members } = room(1);
    const [ann] = members as [FakeOutlet];
    writer.queue(ann, frame('pong'));
    endOfTick();
    expect(ann.socket.texts).toEqual([frame('pong')]);
  });

  it('the next tick starts afresh: frames are never written twice', () => {
    const { writer, members } = room(2);
    const [ann, bob] = members as [FakeOutlet, FakeOutlet];
    writer.broadcast(frame('one'), null);
    endOfTick();
    writer.broadcast(frame('two'), null);
    writer.queue(ann, frame('ack'));
    endOfTick();
    vi.runAllTimers();
    expect(ann.socket.texts).toEqual([frame('one'), batch(frame('two'), frame('ack'))]);
    expect(bob.socket.texts).toEqual([frame('one'), frame('two')]);
  });

  it('room frames of a tick are serialised once: every member with nothing personal gets the same bytes', () => {
    const { writer, members } = room(3);
    writer.broadcast(frame('message'), null);
    writer.broadcast(frame('typing'), null);
    endOfTick();
    const writes = members.map((member) => member.socket.sent);
    for (const sent of writes) expect(sent).toHaveLength(1);
    const [first] = writes[0]!;
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(String(first)).toBe(batch(frame('message'), frame('typing')));
    // The very same Buffer, not three equal copies.
    for (const sent of writes) expect(sent[0]).toBe(first);
  });

  it('a member with personal frames gets its own write, with its frames and the room’s in the order they were queued', () => {
    const { writer, members } = room(3);
    const [ann, bob, cat] = members as [FakeOutlet, FakeOutlet, FakeOutlet];
    writer.queue(ann, frame('ack-1'));
    writer.broadcast(frame('message-1'), null);
    writer.queue(ann, frame('pong'));
    writer.broadcast(frame('message-2'), null);
    endOfTick();
    expect(ann.socket.texts).toEqual([batch(frame('ack-1'), frame('message-1'), frame('pong'), frame('message-2'))]);
    expect(bob.socket.texts).toEqual([batch(frame('message-1'), frame('message-2'))]);
    // Those with nothing personal still share one Buffer.
    expect(cat.socket.sent[0]).toBe(bob.socket.sent[0]);
  });

  it('a room frame skips the member it came from', () => {
    const { writer, members } = room(3);
    const [ann, bob, cat] = members as [FakeOutlet, FakeOutlet, FakeOutlet];
    writer.broadcast(frame('message-from-ann'), ann);
    endOfTick();
    expect(ann.socket.sent).toEqual([]);
    expect(bob.socket.texts).toEqual([frame('message-from-ann')]);
    expect(cat.socket.texts).toEqual([frame('message-from-ann')]);
  });

  it('a room frame for some members only (a channel, v1.5): those it keeps still share one Buffer, the others get only what is theirs', () => {
    const { writer, members } = room(4);
    const [old, ann, bob, cat] = members as [FakeOutlet, FakeOutlet, FakeOutlet, FakeOutlet];
    const knowsChannels = (member: Outlet): boolean => member !== old;
    writer.broadcast(frame('in-general'), null);
    writer.broadcast(frame('in-a-channel'), null, knowsChannels);
    writer.broadcast(frame('in-general-again'), null);
    endOfTick();
    expect(old.socket.texts).toEqual([batch(frame('in-general'), frame('in-general-again'))]);
    expect(ann.socket.texts).toEqual([batch(frame('in-general'), frame('in-a-channel'), frame('in-general-again'))]);
    expect(Buffer.isBuffer(ann.socket.sent[0])).toBe(true);
    for (const member of [bob, cat]) expect(member.socket.sent[0]).toBe(ann.socket.sent[0]);
  });

  it('a sender who also had room frames from others in the tick gets those, without its own', () => {
    const { writer, members } = room(2);
    const [ann, bob] = members as [FakeOutlet, FakeOutlet];
    writer.broadcast(frame('from-bob'), bob);
    writer.broadcast(frame('from-ann'), ann);
    endOfTick();
    expect(ann.socket.texts).toEqual([frame('from-bob')]);
    expect(bob.socket.texts).toEqual([frame('from-ann')]);
  });

  it('flushNow writes what is queued at once, and the end of the tick writes nothing more', () => {
    const { writer, members } = room(1);
    const [ann] = members as [FakeOutlet];
    writer.queue(ann, frame('error'));
    writer.queue(ann, frame('goodbye'));
    writer.flushNow(ann);
    expect(ann.socket.texts).toEqual([batch(frame('error'), frame('goodbye'))]);
    vi.runAllTimers();
    expect(ann.socket.sent).toHaveLength(1);
  });

  it('a connection forgotten before the end of the tick is written nothing', () => {
    const { writer, members } = room(1);
    const [ann] = members as [FakeOutlet];
    writer.queue(ann, frame('ack'));
    writer.forget(ann);
    vi.runAllTimers();
    expect(ann.socket.sent).toEqual([]);
  });

  it('a socket that is no longer open is skipped silently', () => {
    const { writer, members, slow } = room(2);
    const [ann, bob] = members as [FakeOutlet, FakeOutlet];
    ann.socket.readyState = CLOSING;
    writer.broadcast(frame('message'), null);
    endOfTick();
    expect(ann.socket.sent).toEqual([]);
    expect(ann.socket.closes).toEqual([]);
    expect(slow).toEqual([]);
    expect(bob.socket.texts).toEqual([frame('message')]);
  });
});

describe('presence news', () => {
  const joined = (name: string): string => JSON.stringify({ type: 'presence', event: 'joined', member: { name } });

  it(`waits ${PRESENCE_COALESCE_MS} ms so that a burst of joins reaches each member in one write`, () => {
    const { writer, members } = room(2);
    const [ann, bob] = members as [FakeOutlet, FakeOutlet];
    writer.broadcastPresence(joined('Cat'), null);
    vi.advanceTimersByTime(PRESENCE_COALESCE_MS / 2);
    writer.broadcastPresence(joined('Dan'), null);
    writer.broadcastPresence(joined('Eve'), null);
    vi.advanceTimersByTime(PRESENCE_COALESCE_MS / 2 - 1);
    expect(ann.socket.sent).toEqual([]);
    // The wait counts from the first news, not the latest.
    vi.advanceTimersByTime(1);
    endOfTick();
    const expected = batch(joined('Cat'), joined('Dan'), joined('Eve'));
    expect(ann.socket.texts).toEqual([expected]);
    expect(bob.socket.texts).toEqual([expected]);
    vi.runAllTimers();
    expect(ann.socket.sent).toHaveLength(1);
  });

  it('news skips the member it is about', () => {
    const { writer, members } = room(2);
    const [ann, bob] = members as [FakeOutlet, FakeOutlet];
    writer.broadcastPresence(joined('Ann'), ann);
    vi.runAllTimers();
    expect(ann.socket.sent).toEqual([]);
    expect(bob.socket.texts).toEqual([joined('Ann')]);
  });

  it('news a member’s welcome already reflected is not sent to that member again', () => {
    const { writer, members } = room(2);
    const [early, late] = members as [FakeOutlet, FakeOutlet];
    writer.broadcastPresence(joined('Cat'), null);
    // `late` is welcomed now: its member list already shows Cat.
    late.presenceSeen = writer.presenceNumber;
    writer.broadcastPresence(joined('Dan'), null);
    vi.runAllTimers();
    expect(early.socket.texts).toEqual([batch(joined('Cat'), joined('Dan'))]);
    expect(late.socket.texts).toEqual([joined('Dan')]);
  });

  it('stop() drops news still waiting', () => {
    const { writer, members } = room(1);
    const [ann] = members as [FakeOutlet];
    writer.broadcastPresence(joined('Cat'), null);
    writer.stop();
    vi.runAllTimers();
    expect(ann.socket.sent).toEqual([]);
    // Nor does a later frame bring it back.
    writer.broadcast(frame('message'), null);
    vi.runAllTimers();
    expect(ann.socket.texts).toEqual([frame('message')]);
  });
});

describe('nobody hears from a member before hearing that they joined', () => {
  const joinedX = JSON.stringify({ type: 'presence', event: 'joined', member: { id: 'm_x' } });

  it('a room message from a newcomer is preceded by the news of their arrival, in the same write', () => {
    const { writer, members } = room(3);
    const [observer, other, newcomer] = members as [FakeOutlet, FakeOutlet, FakeOutlet];
    writer.broadcastPresence(joinedX, newcomer);
    writer.broadcast(frame('message-from-x'), newcomer);
    endOfTick();
    expect(observer.socket.texts).toEqual([batch(joinedX, frame('message-from-x'))]);
    expect(other.socket.texts).toEqual([batch(joinedX, frame('message-from-x'))]);
    expect(newcomer.socket.sent).toEqual([]);
    // The news went out with the message: it is not sent again when its wait ends.
    vi.runAllTimers();
    expect(observer.socket.sent).toHaveLength(1);
  });

  it('a direct frame from a newcomer (a message, a typing notice) is preceded by the news of their arrival', () => {
    const { writer, members } = room(3);
    const [observer, other, newcomer] = members as [FakeOutlet, FakeOutlet, FakeOutlet];
    writer.broadcastPresence(joinedX, newcomer);
    writer.queue(observer, frame('direct-message-from-x'));
    endOfTick();
    expect(observer.socket.texts).toEqual([batch(joinedX, frame('direct-message-from-x'))]);
    // Everyone else hears the news when its wait ends, still once; the observer not again.
    expect(other.socket.sent).toEqual([]);
    vi.advanceTimersByTime(PRESENCE_COALESCE_MS);
    endOfTick();
    expect(other.socket.texts).toEqual([joinedX]);
    expect(observer.socket.sent).toHaveLength(1);
  });

  it('a connection that has not joined (owed no news) gets none with the error it is sent', () => {
    const { writer, members } = room(1);
    const [member] = members as [FakeOutlet];
    const stranger = outlet();
    stranger.presenceSeen = Number.POSITIVE_INFINITY;
    writer.broadcastPresence(joinedX, member);
    writer.queue(stranger, frame('error'));
    endOfTick();
    expect(stranger.socket.texts).toEqual([frame('error')]);
  });

  it('a join storm stays one write of news per member: welcoming the next newcomer releases nothing to the others', () => {
    const { writer, members } = room(1);
    const [observer] = members as [FakeOutlet];
    const newcomers = Array.from({ length: 20 }, (_, i) => {
      const newcomer = outlet();
      members.push(newcomer);
      newcomer.presenceSeen = writer.presenceNumber;
      writer.queue(newcomer, frame(`welcome-${i}`));
      writer.broadcastPresence(
        JSON.stringify({ type: 'presence', event: 'joined', member: { id: `m_${i}` } }),
        newcomer,
      );
      return newcomer;
    });
    endOfTick();
    expect(observer.socket.sent).toEqual([]);
    vi.advanceTimersByTime(PRESENCE_COALESCE_MS);
    endOfTick();
    expect(observer.socket.sent).toHaveLength(1);
    // The first newcomer: its welcome, then the 19 who came after it, in one write.
    expect(newcomers[0]!.socket.sent).toHaveLength(2);
    // The last: its welcome only (it reflected everyone before it; news of itself is not for it).
    expect(newcomers[19]!.socket.sent).toHaveLength(1);
  });

  it('a newcomer’s welcome goes out at once, while the news of their arrival still waits for others joining', () => {
    const { writer, members } = room(2);
    const [observer, newcomer] = members as [FakeOutlet, FakeOutlet];
    newcomer.presenceSeen = writer.presenceNumber;
    writer.queue(newcomer, frame('welcome'));
    writer.broadcastPresence(joinedX, newcomer);
    endOfTick();
    expect(newcomer.socket.texts).toEqual([frame('welcome')]);
    expect(observer.socket.sent).toEqual([]);
    vi.advanceTimersByTime(PRESENCE_COALESCE_MS);
    endOfTick();
    expect(observer.socket.texts).toEqual([joinedX]);
    expect(newcomer.socket.texts).toEqual([frame('welcome')]);
  });
});

describe('a member that stops reading', () => {
  it('is closed with 4006 BEACON_ERR_SLOW_READER when its unread data and the next write pass the bound, then cut 1 s later', () => {
    const { writer, members, slow } = room(2, { maxBufferedBytes: 1_000 });
    const [stalled, reader] = members as [FakeOutlet, FakeOutlet];
    stalled.socket.bufferedAmount = 600;
    writer.broadcast(frame('message', 500), null);
    endOfTick();
    expect(stalled.socket.sent).toEqual([]);
    expect(stalled.socket.closes).toEqual([{ code: CLOSE.SLOW_READER, reason: 'BEACON_ERR_SLOW_READER' }]);
    expect(CLOSE.SLOW_READER).toBe(4006);
    expect(slow).toEqual([stalled]);
    // The close frame waits behind the unread data; the socket is cut a second later.
    vi.advanceTimersByTime(999);
    expect(stalled.socket.terminated).toBe(0);
    vi.advanceTimersByTime(1);
    expect(stalled.socket.terminated).toBe(1);
    // Those who read are unaffected.
    expect(reader.socket.texts).toEqual([frame('message', 500)]);
  });

  it('is reported once, however much more is sent its way', () => {
    const { writer, members, slow } = room(1, { maxBufferedBytes: 1_000 });
    const [stalled] = members as [FakeOutlet];
    stalled.socket.bufferedAmount = 900;
    for (let i = 0; i < 5; i++) {
      writer.broadcast(frame('message', 500), null);
      writer.queue(stalled, frame('ack', 500));
      endOfTick();
    }
    vi.runAllTimers();
    expect(slow).toHaveLength(1);
    expect(stalled.socket.closes).toHaveLength(1);
    expect(stalled.socket.sent).toEqual([]);
  });

  it('a write that just fits is made', () => {
    const item = frame('message', 400);
    const { writer, members, slow } = room(1, { maxBufferedBytes: 1_000 });
    const [reader] = members as [FakeOutlet];
    reader.socket.bufferedAmount = 1_000 - Buffer.byteLength(item);
    writer.broadcast(item, null);
    endOfTick();
    expect(reader.socket.texts).toEqual([item]);
    expect(slow).toEqual([]);
  });

  it('the first large write into an empty buffer is allowed (a welcome with a page of history)', () => {
    const { writer, members, slow } = room(1, { maxBufferedBytes: 1_000 });
    const [newcomer] = members as [FakeOutlet];
    writer.queue(newcomer, frame('welcome', 5_000));
    endOfTick();
    expect(newcomer.socket.texts).toEqual([frame('welcome', 5_000)]);
    expect(slow).toEqual([]);
    // Once it has not been read, nothing more fits.
    newcomer.socket.bufferedAmount = 5_000;
    writer.queue(newcomer, frame('ack'));
    endOfTick();
    expect(newcomer.socket.sent).toHaveLength(1);
    expect(slow).toEqual([newcomer]);
  });

  it('large replies queued behind the first one in the same tick count against the bound before they are joined', () => {
    const { writer, members, slow } = room(1, { maxBufferedBytes: 1_000 });
    const [greedy] = members as [FakeOutlet];
    writer.queue(greedy, frame('welcome', 5_000));
    writer.queue(greedy, frame('history', 600));
    expect(slow).toEqual([]);
    writer.queue(greedy, frame('history', 600));
    // Dropped at once, before anything was joined into one string.
    expect(slow).toEqual([greedy]);
    expect(greedy.pending).toEqual([]);
    expect(greedy.socket.closes).toEqual([{ code: CLOSE.SLOW_READER, reason: 'BEACON_ERR_SLOW_READER' }]);
    vi.runAllTimers();
    expect(greedy.socket.sent).toEqual([]);
    expect(greedy.socket.terminated).toBe(1);
  });
});
