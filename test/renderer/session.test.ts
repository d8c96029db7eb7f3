import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import type { ChatApi, ChatEvent, OutgoingMessage, Result } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Member } from '../../src/shared/protocol.ts';
import { SessionState } from '../../src/renderer/src/state/session.svelte.ts';
import { emptySnapshot } from '../harness/fake-chat-api.ts';

const ok = <T>(value: T): Promise<Result<T>> => Promise.resolve({ ok: true, value });

function fakeApi(): { api: ChatApi; emit: (e: ChatEvent) => void; calls: Array<[string, unknown]> } {
  const listeners = new Set<(e: ChatEvent) => void>();
  const calls: Array<[string, unknown]> = [];
  const record =
    <T>(name: string, value: T) =>
    (input?: unknown) => {
      calls.push([name, input]);
      return ok(value);
    };
  const api: ChatApi = {
    capabilities: { host: true, notifications: false },
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    host: record('host', { roomName: 'r', port: 1, code: null, addresses: [], webAddresses: [] }),
    join: record('join', null),
    leave: record('leave', null),
    send: (input) => {
      calls.push(['send', input]);
      const message: OutgoingMessage = {
        clientId: 'c1',
        conversation: input.conversation,
        text: input.text,
        ts: 1,
        status: 'pending',
      };
      // As the real ones do: the message is an event, the reply a receipt.
      listeners.forEach((listener) => listener({ type: 'outgoing', message }));
      return ok({ clientId: message.clientId });
    },
    retry: record('retry', null),
    retryNow: record('retryNow', null),
    typing: record('typing', null),
    setStatus: record('setStatus', null),
    loadOlder: record('loadOlder', null),
    reportUnread: record('reportUnread', null),
    setPreferences: record('setPreferences', null),
    getState: () => ok({ ...emptySnapshot, displayName: 'Me' }),
  };
  return { api, emit: (e) => listeners.forEach((l) => l(e)), calls };
}

const me: Member = { id: 'me', name: 'Me', status: 'online', joinedAt: 0 };
const bob: Member = { id: 'bob', name: 'Bob', status: 'online', joinedAt: 0 };
const m = (seq: number, from: string, to: string | null = null): ChatMessage => ({
  seq,
  from,
  to,
  text: `t${seq}`,
  ts: seq,
  clientId: `x${seq}`,
});

async function started() {
  const f = fakeApi();
  const session = new SessionState(f.api, { isVisible: () => true });
  await session.start();
  session.clock.stop();
  f.emit({
    type: 'welcome',
    room: { name: 'Lab', you: me, members: [me, bob] },
    history: [m(1, 'bob'), m(2, 'bob', 'me')],
    hasMore: true,
    resumed: false,
  });
  return { ...f, session };
}

describe('chat session', () => {
  it('sorts history into the room and direct conversations', async () => {
    const { session } = await started();
    flushSync();
    expect(session.roomName).toBe('Lab');
    expect(session.conversation('room')?.messages.map((x) => x.seq)).toEqual([1]);
    expect(session.conversation('bob')?.messages.map((x) => x.seq)).toEqual([2]);
    expect(session.conversationIds).toEqual(['room', 'bob']);
  });

  it('turns a pending message into the real one when acknowledged, once', async () => {
    const { session, emit } = await started();
    await session.send('room', 'hello');
    expect(session.outgoing.items).toHaveLength(1);
    emit({ type: 'messageStatus', clientId: 'c1', status: 'failed', error: 'nope' });
    expect(session.outgoing.items[0]).toMatchObject({ status: 'failed', error: 'nope' });
    emit({ type: 'messageStatus', clientId: 'c1', status: 'sent', seq: 9 });
    expect(session.outgoing.items).toHaveLength(0);
    expect(session.conversation('room')?.messages.at(-1)).toMatchObject({
      seq: 9,
      from: 'me',
      text: 'hello',
      clientId: 'c1',
    });
    // A late echo of the same message changes nothing.
    emit({ type: 'messages', messages: [{ seq: 9, from: 'me', to: null, text: 'hello', ts: 1, clientId: 'c1' }] });
    expect(session.conversation('room')?.messages.filter((x) => x.seq === 9)).toHaveLength(1);
    expect(session.outgoing.items).toHaveLength(0);
  });

  it('counts unread direct messages until the conversation is opened', async () => {
    const { session, emit, calls } = await started();
    emit({ type: 'messages', messages: [m(3, 'bob', 'me')] });
    emit({ type: 'messages', messages: [m(4, 'bob', 'me')] });
    emit({ type: 'messages', messages: [m(4, 'bob', 'me')] });
    expect(session.conversation('bob')?.unread).toBe(2);
    expect(session.conversation('room')?.unread).toBe(0);
    session.open('bob');
    expect(session.conversation('bob')?.unread).toBe(0);
    expect(calls).toContainEqual(['reportUnread', { total: 0 }]);
  });

  it('adds join and leave lines and tracks typing', async () => {
    const { session, emit } = await started();
    const ann: Member = { id: 'ann', name: 'Ann', status: 'online', joinedAt: 1 };
    emit({ type: 'presence', event: 'joined', member: ann });
    emit({ type: 'typing', from: 'ann', conversation: 'room' });
    expect(session.typing.in('room', Date.now())).toEqual(['ann']);
    emit({ type: 'messages', messages: [m(5, 'ann')] });
    expect(session.typing.in('room', Date.now())).toEqual([]);
    emit({ type: 'presence', event: 'left', member: ann });
    expect(session.conversation('room')?.notes.map((n) => n.text)).toEqual(['Ann joined', 'Ann left']);
    expect(session.presence.members.map((x) => x.id)).toEqual(['me', 'bob']);
  });

  it('asks for older messages before the oldest loaded one', async () => {
    const { session, emit, calls } = await started();
    session.loadOlder('room');
    session.loadOlder('room');
    expect(calls.filter(([n]) => n === 'loadOlder')).toEqual([['loadOlder', { conversation: 'room', before: 1 }]]);
    emit({ type: 'history', conversation: 'room', messages: [m(0, 'bob')], hasMore: false });
    expect(session.conversation('room')?.messages.map((x) => x.seq)).toEqual([0, 1]);
    expect(session.conversation('room')?.hasMore).toBe(false);
  });

  it('throttles typing notices and returns to the start screen on leave', async () => {
    const { session, emit, calls } = await started();
    session.typed('room', 1000);
    session.typed('room', 2000);
    session.typed('room', 4000);
    expect(calls.filter(([n]) => n === 'typing')).toHaveLength(2);
    emit({ type: 'left', recentRooms: [], displayName: 'Ann' });
    expect(session.inRoom).toBe(false);
    expect(session.conversations.size).toBe(0);
  });
});
