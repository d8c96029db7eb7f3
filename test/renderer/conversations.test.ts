/**
 * ConversationsState: the room's conversation and the direct ones, which one
 * is open, what is unread (and the total reported for the app badge), and
 * this user's own messages on their way out.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConversationsState } from '../../src/renderer/src/state/conversations.svelte.ts';
import { RoomState } from '../../src/renderer/src/state/room.svelte.ts';
import { UNREAD_REPORT_DELAY_MS } from '../../src/renderer/src/state/unread-report.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { ann, bob, lab, me, message, pending, settle } from './fixtures.ts';

function inLab(options: { visible?: boolean; hasMore?: boolean; history?: ReturnType<typeof message>[] } = {}) {
  const api = createFakeChatApi();
  const room = new RoomState(api);
  const visible = options.visible ?? true;
  const conversations = new ConversationsState(api, room, { isVisible: () => visible });
  room.entered(lab([me, bob, ann]));
  conversations.entered(
    me,
    options.history ?? [message(1, 'bob'), message(2, 'bob', 'me')],
    options.hasMore ?? true,
    false,
  );
  return { api, room, conversations };
}

const seqs = (conversations: ConversationsState, id: string) =>
  conversations.conversation(id)?.messages.map((m) => m.seq);

afterEach(() => {
  vi.useRealTimers();
});

describe('conversations', () => {
  it('sorts the history into the room and a direct conversation per person', () => {
    const { conversations } = inLab();
    expect(seqs(conversations, 'room')).toEqual([1]);
    expect(seqs(conversations, 'bob')).toEqual([2]);
    expect(conversations.conversationIds).toEqual(['room', 'bob', 'ann']);
    expect(conversations.active).toBe('room');
  });

  it('keeps a conversation with someone who left, after the people still here', () => {
    const { room, conversations } = inLab();
    room.memberChanged('left', bob);
    expect(conversations.conversationIds).toEqual(['room', 'ann', 'bob']);
  });

  it('a fresh welcome starts over; a resumed one only adds what was missed', () => {
    const { conversations } = inLab();
    conversations.entered(me, [message(3, 'bob')], false, true);
    expect(seqs(conversations, 'room')).toEqual([1, 3]);
    conversations.entered(me, [message(7, 'ann')], false, false);
    expect(seqs(conversations, 'room')).toEqual([7]);
    expect(seqs(conversations, 'bob')).toEqual([]);
    expect(conversations.conversation('room')?.hasMore).toBe(false);
  });

  it('adds a line to the room when someone else joins or leaves, and none for status changes or ourselves', () => {
    const { conversations } = inLab();
    conversations.memberChanged('joined', ann);
    conversations.memberChanged('away', ann);
    conversations.memberChanged('left', ann);
    conversations.memberChanged('left', me);
    expect(conversations.conversation('room')?.notes.map((n) => n.text)).toEqual(['Ann joined', 'Ann left']);
    expect(conversations.conversation('room')?.notes[0]?.afterSeq).toBe(1);
  });

  it('a message from someone ends their typing notice there', () => {
    const { room, conversations } = inLab();
    room.someoneTyping('ann', 'room');
    conversations.received([message(5, 'ann')]);
    expect(room.typing.in('room', Date.now())).toEqual([]);
  });

  it('leaving clears every conversation and goes back to the room', () => {
    const { conversations } = inLab();
    conversations.open('bob');
    conversations.queued(pending('c1', 'bob', 'hi'));
    conversations.left();
    expect(conversations.byId.size).toBe(0);
    expect(conversations.outgoing.items).toEqual([]);
    expect(conversations.active).toBe('room');
  });
});

describe('own messages', () => {
  it('sending asks the api; the message itself comes as the outgoing event', async () => {
    const { api, conversations } = inLab();
    const result = await conversations.send('room', 'hello');
    expect(result).toEqual({ ok: true, value: { clientId: 'client-1' } });
    expect(api.callsTo('send')).toEqual([{ conversation: 'room', text: 'hello' }]);
    // Nothing is shown from the reply: ChatState routes the event to queued().
    expect(conversations.outgoing.items).toEqual([]);
  });

  it('a pending message shows as failed, then becomes the real message when acknowledged, once', () => {
    const { conversations } = inLab();
    conversations.queued(pending('c1', 'room', 'hello'));
    expect(conversations.outgoing.in('room').map((m) => m.text)).toEqual(['hello']);
    conversations.statusChanged('c1', 'failed', undefined, 'nope');
    expect(conversations.outgoing.items[0]).toMatchObject({ status: 'failed', error: 'nope' });
    conversations.statusChanged('c1', 'sent', 9);
    expect(conversations.outgoing.items).toEqual([]);
    expect(conversations.conversation('room')?.messages.at(-1)).toEqual({
      seq: 9,
      from: 'me',
      to: null,
      text: 'hello',
      ts: 1,
      clientId: 'c1',
    });
    // The host's echo of the same message changes nothing.
    conversations.received([{ seq: 9, from: 'me', to: null, text: 'hello', ts: 1, clientId: 'c1' }]);
    expect(conversations.conversation('room')?.messages.filter((m) => m.seq === 9)).toHaveLength(1);
  });

  it('a direct message, once acknowledged, is addressed to the other person', () => {
    const { conversations } = inLab();
    conversations.queued(pending('c2', 'bob', 'psst'));
    conversations.statusChanged('c2', 'sent', 12);
    expect(conversations.conversation('bob')?.messages.at(-1)).toMatchObject({ seq: 12, from: 'me', to: 'bob' });
  });

  it('a pending message found in a history or among new messages is sent: its pending copy goes', () => {
    const { conversations } = inLab();
    conversations.queued(pending('c1', 'room', 'one'));
    conversations.queued(pending('c2', 'room', 'two'));
    conversations.entered(me, [{ ...message(3, 'me'), clientId: 'c1' }], false, true);
    conversations.received([{ ...message(4, 'me'), clientId: 'c2' }]);
    expect(conversations.outgoing.items).toEqual([]);
    expect(seqs(conversations, 'room')).toEqual([1, 3, 4]);
  });

  it('retrying shows the message pending again, and failed again if the api refuses', async () => {
    const { api, conversations } = inLab();
    conversations.queued({ ...pending('c1', 'room', 'hello'), status: 'failed', error: 'too large' });
    const retried = conversations.retry('c1');
    expect(conversations.outgoing.items[0]).toEqual(pending('c1', 'room', 'hello'));
    await retried;
    expect(api.callsTo('retry')).toEqual([{ clientId: 'c1' }]);

    api.respondOnce('retry', { ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT', message: 'Gone.' } });
    await conversations.retry('c1');
    expect(conversations.outgoing.items[0]).toMatchObject({ status: 'failed', error: 'Gone.' });
  });

  it('tells others we are typing at most every few seconds, again after sending or in another conversation', async () => {
    const { api, conversations } = inLab();
    conversations.typed('room', 1000);
    conversations.typed('room', 2000);
    conversations.typed('room', 4000);
    expect(api.callsTo('typing')).toHaveLength(2);
    conversations.typed('bob', 4100);
    await conversations.send('bob', 'hi');
    conversations.typed('bob', 4200);
    expect(api.callsTo('typing')).toEqual([
      { conversation: 'room' },
      { conversation: 'room' },
      { conversation: 'bob' },
      { conversation: 'bob' },
    ]);
  });
});

describe('unread', () => {
  it('marks where "new since you last read" starts when a conversation with unread messages is opened, until it is left', () => {
    const { conversations } = inLab();
    conversations.open('bob');
    // Bob's two, one of ours in between, then Ann's in the room (read there) do not move the mark.
    conversations.received([message(3, 'bob', 'me')]);
    conversations.received([message(4, 'me', 'bob')]);
    conversations.received([message(5, 'bob', 'me')]);
    expect(conversations.conversation('bob')?.unread).toBe(0);
    conversations.open('room');
    conversations.received([message(6, 'bob', 'me'), message(7, 'me', 'bob'), message(8, 'bob', 'me')]);
    expect(conversations.conversation('bob')?.firstUnreadSeq).toBeNull();
    conversations.open('bob');
    expect(conversations.conversation('bob')?.firstUnreadSeq).toBe(6);
    conversations.open('room');
    expect(conversations.conversation('bob')?.firstUnreadSeq).toBeNull();
    // Nothing unread: no mark.
    conversations.open('bob');
    expect(conversations.conversation('bob')?.firstUnreadSeq).toBeNull();
  });

  it('counts other people’s new messages in conversations not on screen until opened', () => {
    const { api, conversations } = inLab();
    conversations.received([message(3, 'bob', 'me')]);
    conversations.received([message(4, 'bob', 'me'), message(4, 'bob', 'me')]);
    conversations.received([message(5, 'ann')]);
    conversations.received([message(6, 'me', 'bob')]);
    expect(conversations.conversation('bob')?.unread).toBe(2);
    // The room is open and visible: read as it arrives.
    expect(conversations.conversation('room')?.unread).toBe(0);
    conversations.open('bob');
    expect(conversations.conversation('bob')?.unread).toBe(0);
    expect(api.callsTo('reportUnread')).toEqual([{ total: 0 }]);
  });

  it('a page of missed messages lands in each conversation at once, and counts only what was not there yet', () => {
    const { conversations } = inLab();
    const bobBefore = conversations.conversation('bob')!;
    let changes = 0;
    const add = bobBefore.add.bind(bobBefore);
    bobBefore.add = (messages) => {
      changes += 1;
      return add(messages);
    };
    conversations.received([
      message(2, 'bob', 'me'),
      message(3, 'bob', 'me'),
      message(4, 'ann'),
      message(5, 'bob', 'me'),
    ]);
    expect(seqs(conversations, 'bob')).toEqual([2, 3, 5]);
    expect(seqs(conversations, 'room')).toEqual([1, 4]);
    expect(changes).toBe(1);
    expect(conversations.conversation('bob')?.unread).toBe(2);
  });

  it('counts messages in the open conversation while the window is hidden, until seen', () => {
    const { conversations } = inLab({ visible: false });
    conversations.received([message(3, 'ann')]);
    expect(conversations.conversation('room')?.unread).toBe(1);
    conversations.seen();
    expect(conversations.conversation('room')?.unread).toBe(0);
  });

  it('reports a rise once per burst, with the total, for the app badge', () => {
    vi.useFakeTimers();
    const { api, conversations } = inLab();
    conversations.received([message(3, 'bob', 'me')]);
    conversations.received([message(4, 'ann', 'me')]);
    conversations.received([message(5, 'ann', 'me')]);
    expect(api.callsTo('reportUnread')).toEqual([]);
    vi.advanceTimersByTime(UNREAD_REPORT_DELAY_MS);
    expect(api.callsTo('reportUnread')).toEqual([{ total: 3 }]);
  });

  it('reading before the rise is reported sends one report, with the new total', () => {
    vi.useFakeTimers();
    const { api, conversations } = inLab();
    conversations.received([message(3, 'bob', 'me'), message(4, 'ann', 'me')]);
    conversations.open('bob');
    vi.advanceTimersByTime(UNREAD_REPORT_DELAY_MS * 2);
    expect(api.callsTo('reportUnread')).toEqual([{ total: 1 }]);
  });
});

describe('older messages', () => {
  it('asks for the page before the oldest loaded message, once at a time, until there is no more', async () => {
    const { api, conversations } = inLab();
    conversations.loadOlder('room');
    conversations.loadOlder('room');
    expect(api.callsTo('loadOlder')).toEqual([{ conversation: 'room', before: 1 }]);
    expect(conversations.conversation('room')?.loadingOlder).toBe(true);
    conversations.olderPage('room', [message(0, 'bob')], false);
    expect(seqs(conversations, 'room')).toEqual([0, 1]);
    expect(conversations.conversation('room')?.loadingOlder).toBe(false);
    conversations.loadOlder('room');
    expect(api.callsTo('loadOlder')).toHaveLength(1);
  });

  it('opening an empty conversation asks for everything before the newest message anywhere', () => {
    const { api, conversations } = inLab();
    conversations.open('ann');
    expect(api.callsTo('loadOlder')).toEqual([{ conversation: 'ann', before: 3 }]);
  });

  it('a refused request can be asked again, and the notice says why', async () => {
    const { api, room, conversations } = inLab();
    api.respondOnce('loadOlder', { ok: false, error: { code: 'BEACON_ERR_NOT_JOINED', message: 'Not in a room.' } });
    conversations.loadOlder('room');
    await settle();
    expect(room.notice).toBe('Not in a room.');
    expect(conversations.conversation('room')?.loadingOlder).toBe(false);
  });
});
