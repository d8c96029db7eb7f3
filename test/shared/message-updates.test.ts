/**
 * What an edit, a deletion, a reaction or a channel change does to what a client holds, alone:
 * the rules the snapshot, the terminal and the interface share. Each applies twice as once.
 */
import { describe, expect, it } from 'vitest';
import { applyToChannels, applyToMessage, applyToMessages } from '../../src/shared/message-updates.ts';
import type { Channel, ChatMessage, Update } from '../../src/shared/protocol.ts';

const msg = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  from: 'm_ann',
  to: null,
  text: `text ${seq}`,
  ts: seq,
  clientId: `c${seq}`,
  ...over,
});
const edit = (seq: number, target: number, text: string, ts = seq): Extract<Update, { kind: 'edit' }> => ({
  kind: 'edit',
  seq,
  ts,
  by: 'm_ann',
  target,
  text,
});
const react = (seq: number, target: number, by: string, emoji: string, on: boolean): Update => ({
  kind: 'react',
  seq,
  ts: seq,
  by,
  target,
  emoji,
  on,
});
const del = (seq: number, target: number): Update => ({ kind: 'delete', seq, ts: seq, by: 'm_ann', target });

describe('an edit', () => {
  it('shows the new text, marked edited at its time, with its mentions', () => {
    const after = applyToMessage(msg(1, { mentions: ['m_old'] }), { ...edit(5, 1, 'new'), mentions: ['m_bob'] });
    expect(after).toMatchObject({ text: 'new', editedAt: 5, mentions: ['m_bob'] });
    expect(applyToMessage(after, { ...edit(5, 1, 'new'), mentions: ['m_bob'] })).toEqual(after);
  });

  it('an older edit arriving after a newer one does not undo it', () => {
    const newer = applyToMessage(msg(1), edit(9, 1, 'second'));
    expect(applyToMessage(newer, edit(5, 1, 'first'))).toBe(newer);
  });

  it('a deleted message stays deleted whatever comes after', () => {
    const gone = applyToMessage(msg(1), del(5, 1));
    expect(applyToMessage(gone, edit(6, 1, 'back?'))).toBe(gone);
    expect(applyToMessage(gone, react(7, 1, 'm_bob', '👍', true))).toBe(gone);
  });

  it('leaves other messages alone (the same objects)', () => {
    const other = msg(2);
    expect(applyToMessage(other, edit(5, 1, 'x'))).toBe(other);
  });
});

describe('a deletion', () => {
  it('empties the message and takes its files, mentions and reactions, keeping its place and its reply', () => {
    const quote = { seq: 1, from: 'm_bob', text: 'q' };
    const full = msg(3, {
      mentions: ['m_bob'],
      reactions: [{ emoji: '👍', by: ['m_bob'] }],
      replyTo: quote,
      editedAt: 4,
      files: [{ id: 'f_aaaaaaaaaaaaaaaaaaaaaa', name: 'a.txt', size: 1, type: 'text/plain', sha256: 'a'.repeat(64) }],
    });
    const gone = applyToMessage(full, del(5, 3));
    expect(gone).toEqual({
      seq: 3,
      from: 'm_ann',
      to: null,
      text: '',
      ts: 3,
      clientId: 'c3',
      replyTo: quote,
      deleted: true,
    });
  });

  it('a reply to it then says its original was deleted; an edit changes the quote', () => {
    const reply = msg(2, { replyTo: { seq: 1, from: 'm_ann', text: 'text 1' } });
    const [, edited] = applyToMessages([msg(1), reply], [edit(3, 1, 'changed')]);
    expect(edited!.replyTo).toEqual({ seq: 1, from: 'm_ann', text: 'changed' });
    const [, after] = applyToMessages([msg(1), reply], [del(3, 1)]);
    expect(after!.replyTo).toEqual({ seq: 1, from: 'm_ann', text: '', deleted: true });
  });
});

describe('a reaction', () => {
  it('counts each person once, emoji in the order first chosen, and disappears when the last takes it back', () => {
    let m = msg(1);
    m = applyToMessage(m, react(2, 1, 'm_bob', '👍', true));
    m = applyToMessage(m, react(3, 1, 'm_cat', '🎉', true));
    m = applyToMessage(m, react(4, 1, 'm_cat', '👍', true));
    m = applyToMessage(m, react(4, 1, 'm_cat', '👍', true));
    expect(m.reactions).toEqual([
      { emoji: '👍', by: ['m_bob', 'm_cat'] },
      { emoji: '🎉', by: ['m_cat'] },
    ]);
    m = applyToMessage(m, react(5, 1, 'm_cat', '🎉', false));
    m = applyToMessage(m, react(6, 1, 'm_bob', '👍', false));
    m = applyToMessage(m, react(6, 1, 'm_bob', '👍', false));
    expect(m.reactions).toEqual([{ emoji: '👍', by: ['m_cat'] }]);
    m = applyToMessage(m, react(7, 1, 'm_cat', '👍', false));
    expect(m).not.toHaveProperty('reactions');
  });
});

describe('a channel change', () => {
  const general: Channel = { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: 0, archived: false };
  const release: Channel = { ...general, id: 'c_0123456789abcdef', name: 'release', createdBy: 'm_ann' };
  const change = (channel: Channel): Update => ({ kind: 'channel', seq: 9, ts: 9, by: 'm_ann', channel });

  it('adds a new channel at the end and replaces a known one in its place', () => {
    const added = applyToChannels([general], change(release));
    expect(added.map((c) => c.name)).toEqual(['general', 'release']);
    const renamed = applyToChannels(added, change({ ...general, name: 'lobby' }));
    expect(renamed.map((c) => c.name)).toEqual(['lobby', 'release']);
    expect(applyToChannels(renamed, change({ ...general, name: 'lobby' }))).toEqual(renamed);
  });
});
