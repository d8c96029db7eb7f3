/**
 * The resume catch-up when the connection drops again in the middle of it.
 * The timing (a live message between two catch-up pages, then a drop) cannot
 * be forced over a real socket, so the host side is scripted frame by frame at
 * the transport boundary; the RoomClient under test is the real one.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ClientFrame, HostFrame } from '../../src/shared/protocol.ts';
import { RoomClient, type SocketLike } from '../../src/shared/room-client.ts';

class ScriptedSocket implements SocketLike {
  readonly sent: ClientFrame[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((data: string) => void) | null = null;
  onclose: ((code: number, reason: string) => void) | null = null;
  onerror: ((errorCode: string | undefined) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientFrame);
  }
  close(): void {}
  deliver(frame: HostFrame): void {
    this.onmessage?.(JSON.stringify(frame));
  }
  drop(): void {
    this.onclose?.(1006, '');
  }
}

const message = (seq: number): ChatMessage => ({
  seq,
  from: 'm_ann',
  to: null,
  text: `m${seq}`,
  ts: seq,
  clientId: `c${seq}`,
});
const range = (from: number, to: number): ChatMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
const limits = { maxMessageBytes: 65536, pingIntervalMs: 60_000, messagesPerSecond: 20, messageBurst: 40 };
const welcome = (resumed: boolean, history: ChatMessage[], hasMore: boolean, lastSeq: number): HostFrame => ({
  type: 'welcome',
  v: 1,
  room: { name: 'R' },
  you: { id: 'm_bob', name: 'Bob', status: 'online', joinedAt: 0 },
  token: 't_bob',
  resumed,
  members: [],
  history,
  hasMore,
  lastSeq,
  limits,
});

describe('a catch-up interrupted by another drop', () => {
  it('resumes from the last page, not from a live message past the gap, and shows nothing twice', async () => {
    const sockets: ScriptedSocket[] = [];
    const client = new RoomClient({
      url: 'ws://scripted/',
      name: 'Bob',
      socketFactory: () => {
        const socket = new ScriptedSocket();
        sockets.push(socket);
        queueMicrotask(() => socket.onopen?.());
        return socket;
      },
      backoff: { initialMs: 1, maxMs: 1, factor: 1 },
    });
    const shown: number[] = [];
    client.on('message', (m) => shown.push(m.seq));
    client.on('welcome', (w) => shown.push(...w.history.map((m) => m.seq)));
    client.on('history', (page) => shown.push(...page.messages.map((m) => m.seq)));
    const nextSocket = async (count: number) => {
      await expect.poll(() => sockets.length).toBe(count);
      const socket = sockets[count - 1]!;
      await expect.poll(() => socket.sent.some((f) => f.type === 'hello')).toBe(true);
      return socket;
    };

    const connected = client.connect();
    const first = await nextSocket(1);
    first.deliver(welcome(false, range(1, 10), false, 10));
    await connected;
    first.drop();

    // Resume from 10: the welcome brings 11-15 and says there is more; the client asks for the rest.
    const second = await nextSocket(2);
    expect(second.sent[0]).toMatchObject({ type: 'hello', resume: { token: 't_bob', lastSeq: 10 } });
    second.deliver(welcome(true, range(11, 15), true, 100));
    expect(second.sent.at(-1)).toMatchObject({ type: 'history', after: 15 });
    // A live message arrives before the page does, and then the connection drops again.
    second.deliver({ type: 'message', message: message(100) });
    second.drop();

    // The next resume must start at 15, the end of what was fetched, not at 100.
    const third = await nextSocket(3);
    expect(third.sent[0]).toMatchObject({ type: 'hello', resume: { lastSeq: 15 } });
    third.deliver(welcome(true, range(16, 20), true, 100));
    expect(third.sent.at(-1)).toMatchObject({ type: 'history', after: 20 });
    third.deliver({ type: 'history', messages: range(21, 100), hasMore: false, direction: 'after' });

    // Each message once (100 was shown when it arrived live, before 16-99 were fetched).
    expect(shown).toHaveLength(100);
    expect([...shown].sort((a, b) => a - b)).toEqual(range(1, 100).map((m) => m.seq));
    expect(client.lastSeq).toBe(100);
    client.close();
  });
});
