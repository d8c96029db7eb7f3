/**
 * Edits, deletions and reactions as the interface applies them (v1.5), and the mention logic the
 * composer and the message text use: pure functions and the state, without a DOM.
 */
import { describe, expect, it } from 'vitest';
import type { ChatSnapshot } from '../../src/shared/chat-api.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { applyToMessage as applyUpdate, type MessageUpdate } from '../../src/shared/message-updates.ts';
import { withMentions } from '../../src/renderer/src/lib/markdown-mentions.ts';
import { markdown } from '../../src/renderer/src/lib/markdown.ts';
import { matchingMembers, mentionedIn, mentionQuery } from '../../src/renderer/src/lib/mentions.ts';
import { IncrementalTimeline } from '../../src/renderer/src/lib/timeline.ts';
import { mentionsMe } from '../../src/renderer/src/lib/unread.ts';
import { ChatState } from '../../src/renderer/src/state/chat.svelte.ts';
import { Clock } from '../../src/renderer/src/state/clock.svelte.ts';
import { createFakeChatApi } from '../harness/fake-chat-api.ts';
import { lab, message } from './fixtures.ts';

const edit = (
  seq: number,
  target: number,
  text: string,
  by = 'bob',
  ts = seq,
): Extract<MessageUpdate, { kind: 'edit' }> => ({ kind: 'edit', seq, ts, by, target, text });
const del = (seq: number, target: number, by = 'bob'): MessageUpdate => ({ kind: 'delete', seq, ts: seq, by, target });
const react = (seq: number, target: number, emoji: string, by: string, on = true): MessageUpdate => ({
  kind: 'react',
  seq,
  ts: seq,
  by,
  target,
  emoji,
  on,
});

describe('an update applied to a message', () => {
  const original: ChatMessage = { ...message(1, 'bob'), files: [], mentions: ['ann'] };

  it('an edit sets the text, the time and the mentions; the same edit again changes nothing', () => {
    const once = applyUpdate(original, { ...edit(5, 1, 'new'), mentions: ['me'] });
    expect(once).toMatchObject({ text: 'new', editedAt: 5, mentions: ['me'] });
    expect(applyUpdate(once, { ...edit(5, 1, 'new'), mentions: ['me'] })).toBe(once);
    expect(applyUpdate(once, edit(6, 1, 'newer')).mentions).toBeUndefined();
  });

  it('an older edit replayed after a newer one leaves the newer text', () => {
    const newer = applyUpdate(original, edit(9, 1, 'second', 'bob', 900));
    expect(applyUpdate(newer, edit(5, 1, 'first', 'bob', 500))).toBe(newer);
  });

  it('an edit or deletion by anyone but the author is ignored', () => {
    expect(applyUpdate(original, edit(5, 1, 'forged', 'ann'))).toBe(original);
    expect(applyUpdate(original, del(5, 1, 'ann'))).toBe(original);
  });

  it('a deletion empties the text and drops files, mentions and reactions, for good', () => {
    const withReaction = applyUpdate(original, react(4, 1, '👍', 'ann'));
    const gone = applyUpdate(withReaction, del(5, 1));
    expect(gone).toEqual({ ...message(1, 'bob'), text: '', deleted: true });
    expect(applyUpdate(gone, del(6, 1))).toBe(gone);
    expect(applyUpdate(gone, edit(7, 1, 'back'))).toBe(gone);
    expect(applyUpdate(gone, react(8, 1, '👍', 'ann'))).toBe(gone);
  });

  it('reactions: each member once per emoji, emoji in the order first chosen, empty ones removed', () => {
    let m = original;
    for (const u of [
      react(2, 1, '👍', 'ann'),
      react(3, 1, '🎉', 'bob'),
      react(4, 1, '👍', 'bob'),
      react(5, 1, '👍', 'ann'),
    ]) {
      m = applyUpdate(m, u);
    }
    expect(m.reactions).toEqual([
      { emoji: '👍', by: ['ann', 'bob'] },
      { emoji: '🎉', by: ['bob'] },
    ]);
    m = applyUpdate(m, react(6, 1, '🎉', 'bob', false));
    expect(m.reactions).toEqual([{ emoji: '👍', by: ['ann', 'bob'] }]);
    const before = m;
    expect(applyUpdate(m, react(7, 1, '🎉', 'bob', false))).toBe(before);
    m = applyUpdate(applyUpdate(m, react(8, 1, '👍', 'ann', false)), react(9, 1, '👍', 'bob', false));
    expect(m.reactions).toBeUndefined();
  });

  it('an update about another message leaves this one alone', () => {
    expect(applyUpdate(original, edit(5, 2, 'x'))).toBe(original);
  });
});

class StillClock extends Clock {
  override start(): void {}
}

async function started(extra: Partial<ChatSnapshot> = {}) {
  const api = createFakeChatApi({
    snapshot: {
      connection: { kind: 'connected', address: '10.0.0.2:4747', rttMs: 3 },
      room: { ...lab(), features: ['replies', 'edits', 'reactions', 'mentions'] },
      history: [
        message(1, 'bob'),
        message(2, 'me'),
        { ...message(3, 'bob'), replyTo: { seq: 1, from: 'bob', text: 't1' } },
      ],
      displayName: 'Me',
      ...extra,
    },
  });
  const chat = new ChatState(api, { clock: new StillClock(), isVisible: () => true });
  await chat.start();
  return { api, chat, room: () => chat.conversations.conversation('room')! };
}

describe('updates reaching the conversations', () => {
  it('live updates change the held message and the quotes of replies to it', async () => {
    const { api, room } = await started();
    api.emit({ type: 'updates', updates: [edit(10, 1, 'edited text')] });
    expect(room().find(1)?.text).toBe('edited text');
    expect(room().find(3)?.replyTo?.text).toBe('edited text');
    api.emit({ type: 'updates', updates: [del(11, 1)] });
    expect(room().find(3)?.replyTo).toEqual({ seq: 1, from: 'bob', text: '', deleted: true });
  });

  it('a resume’s updates are applied after its messages; updates for messages not held are dropped', async () => {
    const { api, room } = await started();
    const before = room().messages;
    api.emit({
      type: 'updates',
      updates: [
        edit(10, 99, 'nobody holds this'),
        {
          kind: 'channel',
          seq: 11,
          ts: 1,
          by: 'bob',
          channel: { id: 'c_0000000000000001', name: 'x', topic: '', createdBy: 'bob', createdAt: 1, archived: false },
        },
      ],
    });
    expect(room().messages).toBe(before);
    api.emit({
      type: 'welcome',
      room: lab(),
      history: [message(4, 'bob')],
      hasMore: false,
      resumed: true,
      updates: [react(12, 4, '👀', 'me'), react(13, 2, '👀', 'bob')],
    });
    expect(room().find(4)?.reactions).toEqual([{ emoji: '👀', by: ['me'] }]);
    expect(room().find(2)?.reactions).toEqual([{ emoji: '👀', by: ['bob'] }]);
  });

  it('a reply sent: replyTo and mentions go to the host, and the acknowledged message keeps the quote until the host’s copy replaces it', async () => {
    const { api, chat, room } = await started();
    const r = await chat.conversations.send('room', 'sure @Bob', { replyTo: room().find(1)!, mentions: ['bob'] });
    expect(r.ok).toBe(true);
    expect(api.callsTo('send')).toEqual([{ conversation: 'room', text: 'sure @Bob', replyTo: 1, mentions: ['bob'] }]);
    api.emit({ type: 'messageStatus', clientId: 'client-1', status: 'sent', seq: 20 });
    expect(room().find(20)).toMatchObject({ replyTo: { seq: 1, from: 'bob', text: 't1' }, mentions: ['bob'] });
    const hosts = {
      ...message(20, 'me'),
      clientId: 'client-1',
      text: 'sure @Bob',
      replyTo: { seq: 1, from: 'bob', text: 'T1' },
      mentions: ['bob'],
    };
    api.emit({ type: 'messages', messages: [hosts] });
    expect(room().find(20)).toBe(hosts);
    // Another copy later (a page) does not replace what is held: the held one is kept current by updates.
    api.emit({ type: 'messages', messages: [{ ...hosts, text: 'stale' }] });
    expect(room().find(20)).toBe(hosts);
  });

  it('a message that mentions me counts as a mention where I am not looking', async () => {
    const { api, chat } = await started();
    chat.conversations.open('bob');
    api.emit({ type: 'messages', messages: [{ ...message(30, 'bob'), mentions: ['me'] }, message(31, 'bob')] });
    expect(chat.conversations.conversation('room')?.unread).toBe(2);
    expect(chat.conversations.conversation('room')?.mentions).toBe(1);
    chat.conversations.open('room');
    expect(chat.conversations.conversation('room')?.mentions).toBe(0);
  });

  it('Up edits the newest of my messages still there; a deleted one is skipped', async () => {
    const { api, chat } = await started();
    api.emit({ type: 'messages', messages: [message(40, 'me'), message(41, 'bob')] });
    expect(chat.actions.lastEditable('room')?.seq).toBe(40);
    api.emit({ type: 'updates', updates: [del(42, 40, 'me')] });
    expect(chat.actions.lastEditable('room')?.seq).toBe(2);
  });

  it('a reaction that is not one emoji never reaches the host', async () => {
    const { api, chat, room } = await started();
    expect(await chat.actions.toggleReaction(room().find(1)!, 'ab')).toBe('That is not a single emoji.');
    expect(await chat.actions.toggleReaction(room().find(1)!, '🏳️‍🌈')).toBeNull();
    expect(api.callsTo('react')).toEqual([{ seq: 1, emoji: '🏳️‍🌈', on: true }]);
  });
});

describe('the timeline after an update', () => {
  it('an edited message in the middle gets a new row; the others keep theirs', () => {
    const timeline = new IncrementalTimeline();
    const messages = Array.from({ length: 50 }, (_, i) => message(i + 1, i % 2 ? 'bob' : 'me'));
    const first = timeline.build({ messages, me: 'me', now: 100 });
    const next = messages.slice();
    next[20] = applyUpdate(next[20]!, edit(60, 21, 'changed', 'me'));
    const second = timeline.build({ messages: next, me: 'me', now: 100 });
    const changed = second.filter((row, i) => row !== first[i]);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ kind: 'message', message: { seq: 21, text: 'changed' } });
    // And together with a new message at the end.
    const third = timeline.build({
      messages: [
        ...next.slice(0, 10),
        applyUpdate(next[10]!, del(61, 11, 'me')),
        ...next.slice(11),
        message(51, 'bob'),
      ],
      me: 'me',
      now: 100,
    });
    expect(third.find((r) => r.kind === 'message' && r.message.seq === 11)).toMatchObject({
      message: { deleted: true },
    });
    expect(third.at(-1)).toMatchObject({ kind: 'message', message: { seq: 51 } });
  });
});

describe('mentions', () => {
  const people = [
    { id: 'a1', name: 'Ana Souza' },
    { id: 'a2', name: 'Anna Kowalska' },
    { id: 'd1', name: 'Dana Cohen' },
    { id: 'j1', name: 'José Álvarez' },
    { id: 'n1', name: 'Ann' },
  ];

  it('the @word before the caret is a query; an address or an @ after a letter is not', () => {
    expect(mentionQuery('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail ada@example.org', 20)).toBeNull();
    expect(mentionQuery('hi @an\nx', 8)).toBeNull();
    expect(mentionQuery('(@da', 4)).toEqual({ start: 1, query: 'da' });
  });

  it('members match by the start of the name or of a word, accents and case aside', () => {
    expect(matchingMembers(people, 'an').map((m) => m.name)).toEqual(['Ana Souza', 'Ann', 'Anna Kowalska']);
    expect(matchingMembers(people, 'coh').map((m) => m.name)).toEqual(['Dana Cohen']);
    expect(matchingMembers(people, 'alva').map((m) => m.name)).toEqual(['José Álvarez']);
    expect(matchingMembers(people, 'zz')).toEqual([]);
  });

  it('a text names a member only by a whole @Name', () => {
    expect(mentionedIn('hi @Ann and @Anna Kowalska', people)).toEqual(['a2', 'n1']);
    expect(mentionedIn('hi @Annabel', people)).toEqual([]);
    expect(mentionedIn('@Dana Cohen, look', people)).toEqual(['d1']);
  });

  it('@Name is marked only for the names the message mentions, never inside code', () => {
    const nodes = withMentions(markdown('@Ann and `@Ann` and @Bob'), [{ name: 'Ann', me: true }]);
    expect(nodes).toEqual([
      {
        kind: 'element',
        tag: 'p',
        children: [
          { kind: 'element', tag: 'span', mention: 'me', children: [{ kind: 'text', text: '@Ann' }] },
          { kind: 'text', text: ' and ' },
          { kind: 'element', tag: 'code', children: [{ kind: 'text', text: '@Ann' }] },
          { kind: 'text', text: ' and @Bob' },
        ],
      },
    ]);
    // The cached tree itself is left alone.
    expect(markdown('@Ann and `@Ann` and @Bob')[0]).not.toBe(nodes[0]);
  });

  it('a message from an older client mentions me by @Name in its text', () => {
    expect(mentionsMe({ from: 'bob', text: 'ping @Me!' }, 'me', 'Me')).toBe(true);
    expect(mentionsMe({ from: 'bob', text: 'ping @Megan' }, 'me', 'Me')).toBe(false);
    expect(mentionsMe({ from: 'bob', text: '@Me', mentions: [] }, 'me', 'Me')).toBe(false);
    expect(mentionsMe({ from: 'me', text: '@Me', mentions: ['me'] }, 'me', 'Me')).toBe(false);
  });
});
