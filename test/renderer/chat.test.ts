/**
 * ChatState: the one listener to the ChatApi. It loads where things stand,
 * then routes each event to the part of the state it concerns; events that
 * come while the snapshot is on its way are applied after it, in order.
 */
import { describe, expect, it } from 'vitest';
import type { ChatSnapshot } from '../../src/shared/chat-api.ts';
import { ChatState } from '../../src/renderer/src/state/chat.svelte.ts';
import { Clock } from '../../src/renderer/src/state/clock.svelte.ts';
import { COMMAND_NAMES } from '../harness/commands.ts';
import { createFakeChatApi, emptySnapshot, type FakeChatApi } from '../harness/fake-chat-api.ts';
import { ann, bob, lab, me, message, pending } from './fixtures.ts';

const inLabSnapshot = (extra: Partial<ChatSnapshot> = {}): Partial<ChatSnapshot> => ({
  connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
  room: lab(),
  history: [message(1, 'bob'), message(2, 'bob', 'me')],
  hasMore: true,
  displayName: 'Me',
  ...extra,
});

/** Nothing here looks at the time: the clock need not tick. */
class StillClock extends Clock {
  override start(): void {}
}

const chatOver = (api: FakeChatApi): ChatState =>
  new ChatState(api, { clock: new StillClock(), isVisible: () => true });

async function started(snapshot: Partial<ChatSnapshot> = {}) {
  const api = createFakeChatApi({ snapshot });
  const chat = chatOver(api);
  await chat.start();
  return { api, chat };
}

describe('starting', () => {
  it('shows where things stand once the snapshot is in', async () => {
    const api = createFakeChatApi({
      snapshot: inLabSnapshot({
        outgoing: [pending('c1', 'bob', 'hi')],
        hostInfo: {
          roomName: 'Lab',
          port: 4747,
          code: null,
          addresses: [],
          webAddresses: [],
          fingerprint: null,
          invite: null,
        },
        preferences: { notifyDirect: false, notifyMentions: true },
      }),
    });
    const chat = chatOver(api);
    const starting = chat.start();
    expect(chat.ready).toBe(false);
    await starting;
    expect(chat.ready).toBe(true);
    expect(chat.room.roomName).toBe('Lab');
    expect(chat.room.connection.kind).toBe('connected');
    expect(chat.room.hostInfo?.port).toBe(4747);
    expect(chat.profile.displayName).toBe('Me');
    expect(chat.profile.preferences.notifyDirect).toBe(false);
    expect(chat.conversations.conversationIds).toEqual(['room', 'bob']);
    expect(chat.conversations.conversation('bob')?.messages.map((m) => m.seq)).toEqual([2]);
    expect(chat.conversations.outgoing.in('bob').map((m) => m.clientId)).toEqual(['c1']);
  });

  it('says why when the snapshot could not be read, and still starts', async () => {
    const api = createFakeChatApi();
    api.respondOnce('getState', { ok: false, error: { code: 'BEACON_ERR_INTERNAL', message: 'No state.' } });
    const chat = chatOver(api);
    await chat.start();
    expect(chat.ready).toBe(true);
    expect(chat.room.notice).toBe('No state.');
  });
});

describe('events that arrive before the snapshot', () => {
  it('an ack that beat the snapshot is not undone by it: the message is sent, not pending again', async () => {
    // The snapshot was taken while c1 was still pending; its ack reached the window first.
    const api = createFakeChatApi({ snapshot: inLabSnapshot({ outgoing: [pending('c1', 'room', 'early')] }) });
    const chat = chatOver(api);
    const starting = chat.start();
    api.emit({ type: 'messageStatus', clientId: 'c1', status: 'sent', seq: 12 });
    await starting;
    expect(chat.conversations.outgoing.items).toEqual([]);
    expect(chat.conversations.conversation('room')?.messages.at(-1)).toMatchObject({
      seq: 12,
      from: 'me',
      text: 'early',
      clientId: 'c1',
    });
  });

  it('events the snapshot already includes change nothing when applied after it', async () => {
    // The snapshot was taken after c1 was sent and Ann came: it holds both, and so do the events.
    const api = createFakeChatApi({
      snapshot: inLabSnapshot({
        room: lab([me, bob, ann]),
        history: [message(1, 'bob'), { ...message(3, 'me'), clientId: 'c1', text: 'early' }],
      }),
    });
    const chat = chatOver(api);
    const starting = chat.start();
    api.emit({ type: 'presence', event: 'joined', member: ann });
    api.emit({ type: 'outgoing', message: pending('c1', 'room', 'early') });
    api.emit({ type: 'messageStatus', clientId: 'c1', status: 'sent', seq: 3 });
    api.emit({ type: 'messages', messages: [{ ...message(3, 'me'), clientId: 'c1', text: 'early' }] });
    await starting;
    expect(chat.conversations.outgoing.items).toEqual([]);
    expect(chat.conversations.conversation('room')?.messages.map((m) => m.seq)).toEqual([1, 3]);
    expect(chat.room.presence.members.map((m) => m.id)).toEqual(['me', 'bob', 'ann']);
  });

  it('newer events win over the snapshot: a later connection state, a leave', async () => {
    const api = createFakeChatApi({ snapshot: inLabSnapshot() });
    const chat = chatOver(api);
    const starting = chat.start();
    api.emit({ type: 'connection', state: { kind: 'idle' } });
    api.emit({ type: 'left', recentRooms: [], displayName: 'Me' });
    await starting;
    expect(chat.room.connection.kind).toBe('idle');
    expect(chat.room.inRoom).toBe(false);
    expect(chat.conversations.byId.size).toBe(0);
  });
});

describe('routing events', () => {
  it('a message sent goes pending as the outgoing event says, then sent', async () => {
    const { api, chat } = await started(inLabSnapshot());
    await chat.conversations.send('room', 'hello');
    expect(chat.conversations.outgoing.in('room').map((m) => m.text)).toEqual(['hello']);
    api.emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 9 });
    expect(chat.conversations.outgoing.items).toEqual([]);
    expect(chat.conversations.conversation('room')?.messages.at(-1)).toMatchObject({ seq: 9, text: 'hello' });
  });

  it('a welcome enters the room; presence reaches both the member list and the room’s lines', async () => {
    const { api, chat } = await started();
    api.emit({ type: 'welcome', room: lab(), history: [message(1, 'bob')], hasMore: false, resumed: false });
    expect(chat.room.roomName).toBe('Lab');
    expect(chat.conversations.conversation('room')?.messages).toHaveLength(1);
    api.emit({ type: 'presence', event: 'joined', member: ann });
    api.emit({ type: 'typing', from: 'ann', conversation: 'room' });
    expect(chat.room.typing.in('room', Date.now())).toEqual(['ann']);
    api.emit({ type: 'messages', messages: [message(2, 'ann'), message(3, 'bob', 'me')] });
    expect(chat.room.typing.in('room', Date.now())).toEqual([]);
    expect(chat.conversations.conversation('bob')?.unread).toBe(1);
    api.emit({ type: 'presence', event: 'left', member: ann });
    expect(chat.room.presence.members.map((m) => m.id)).toEqual(['me', 'bob']);
    expect(chat.conversations.conversation('room')?.notes.map((n) => n.text)).toEqual(['Ann joined', 'Ann left']);
  });

  it('older pages, host info, errors and requests to open a conversation each reach their place', async () => {
    const { api, chat } = await started(inLabSnapshot());
    api.emit({ type: 'history', conversation: 'room', messages: [message(0, 'bob')], hasMore: false });
    expect(chat.conversations.conversation('room')?.messages.map((m) => m.seq)).toEqual([0, 1]);
    api.emit({
      type: 'hostInfo',
      info: { roomName: 'Lab', port: 1, code: '7', addresses: [], webAddresses: [], fingerprint: null, invite: null },
    });
    expect(chat.room.hostInfo?.code).toBe('7');
    api.emit({ type: 'error', code: 'BEACON_ERR_NETWORK', message: 'Lost.' });
    expect(chat.room.notice).toBe('Lost.');
    api.emit({ type: 'openConversation', conversation: 'bob' });
    expect(chat.conversations.active).toBe('bob');
  });

  it('leaving, as the event tells it, goes back to the start screen with the recent rooms', async () => {
    const { api, chat } = await started(inLabSnapshot());
    const recent = { address: '10.0.0.2:4747', roomName: 'Lab', code: '', name: 'Me', lastJoined: 1 };
    api.emit({ type: 'left', recentRooms: [recent], displayName: 'Me' });
    expect(chat.room.inRoom).toBe(false);
    expect(chat.conversations.byId.size).toBe(0);
    expect(chat.profile.recentRooms).toEqual([recent]);
  });

  it('leaving by command resets the conversations too, without waiting for the event', async () => {
    const { chat } = await started(inLabSnapshot());
    await chat.room.leave();
    expect(chat.room.inRoom).toBe(false);
    expect(chat.conversations.byId.size).toBe(0);
  });

  it('hears nothing once stopped', async () => {
    const { api, chat } = await started(inLabSnapshot());
    chat.stop();
    api.emit({ type: 'error', code: 'BEACON_ERR_NETWORK', message: 'Lost.' });
    expect(chat.room.notice).toBeNull();
  });
});

describe('the fake ChatApi', () => {
  it('has every command of the contract', () => {
    const api = createFakeChatApi({ snapshot: emptySnapshot });
    expect(COMMAND_NAMES.filter((name) => typeof api[name] !== 'function')).toEqual([]);
  });

  it('refuses input the contract refuses, as main does', async () => {
    const api = createFakeChatApi();
    const result = await api.send({ conversation: '', text: 'x' });
    expect(result.ok).toBe(false);
  });
});

describe('names and presence that agree (issue 10)', () => {
  const noteTexts = (chat: ChatState): string[] =>
    (chat.conversations.conversation('room')?.notes ?? []).map((note) => note.text);

  it('the author of an old message keeps the name the host sent, after leaving', async () => {
    const { api, chat } = await started(inLabSnapshot({ room: { ...lab(), names: { gone: 'Gina' } } }));
    expect(chat.room.presence.nameOf('gone')).toBe('Gina');
    api.emit({
      type: 'history',
      conversation: 'room',
      messages: [message(0, 'old')],
      hasMore: false,
      names: { old: 'Olaf' },
    });
    expect(chat.room.presence.nameOf('old')).toBe('Olaf');
    expect(chat.room.presence.nameOf('nobody')).toBe('Someone');
  });

  it('someone coming back to a restarted host did not "join": no note without a "left" first', async () => {
    const { api, chat } = await started(inLabSnapshot());
    // The host restarted: its welcome knows only those back so far; Bob comes back after.
    api.emit({ type: 'welcome', room: lab([me]), history: [], hasMore: false, resumed: true });
    api.emit({ type: 'presence', event: 'joined', member: bob });
    expect(noteTexts(chat)).toEqual([]);
    expect(chat.room.presence.get('bob')?.name).toBe('Bob');
    // A real departure and return are both said.
    api.emit({ type: 'presence', event: 'left', member: bob });
    api.emit({ type: 'presence', event: 'joined', member: bob });
    api.emit({ type: 'presence', event: 'joined', member: ann });
    expect(noteTexts(chat)).toEqual(['Bob left', 'Bob joined', 'Ann joined']);
  });
});
