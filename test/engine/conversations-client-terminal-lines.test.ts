/**
 * The terminal client's words for v1.5 (src/cli/room-lines.ts), alone: what a person reading a
 * terminal sees of channels, replies, edits, deletions, reactions and search hits, and that none
 * of it lets room text move the cursor or fake a line.
 */
import { describe, expect, it } from 'vitest';
import {
  channelList,
  messageLines,
  reactionsSummary,
  type RoomWords,
  searchHitLine,
  updateLine,
} from '../../src/cli/room-lines.ts';
import { applyToMessage } from '../../src/shared/message-updates.ts';
import type { Channel, ChatMessage, Update } from '../../src/shared/protocol.ts';

const release: Channel = {
  id: 'c_0123456789abcdef',
  name: 'release',
  topic: 'Friday',
  createdBy: 'm_ann',
  createdAt: 1,
  archived: false,
};
const general: Channel = { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: 0, archived: false };
const names: Record<string, string> = { m_ann: 'Ann', m_bob: 'Bob', m_me: 'Me' };
const words: RoomWords = {
  nameOf: (id) => names[id] ?? id,
  channel: (id) => [general, release].find((c) => c.id === id),
  me: 'm_me',
};
const msg = (over: Partial<ChatMessage> = {}): ChatMessage => ({
  seq: 5,
  from: 'm_ann',
  to: null,
  text: 'Can someone check the build?',
  ts: Date.UTC(2026, 11, 5, 9, 30),
  clientId: 'c5',
  ...over,
});
const noFiles = (): string => '';

describe('messages in a terminal', () => {
  it('a message of a channel says its channel; one of the default channel looks as it always did', () => {
    expect(messageLines(msg({ channel: release.id }), words, noFiles)).toEqual([
      '#release Ann: Can someone check the build?',
    ]);
    expect(messageLines(msg(), words, noFiles)).toEqual(['Ann: Can someone check the build?']);
    expect(messageLines(msg({ to: 'm_me' }), words, noFiles)).toEqual(['Ann → you: Can someone check the build?']);
  });

  it('a reply shows the start of what it answers on a line of its own; a deleted original says so', () => {
    const reply = msg({
      seq: 6,
      from: 'm_bob',
      text: 'on it',
      replyTo: { seq: 5, from: 'm_ann', text: 'Can someone check the build?' },
    });
    expect(messageLines(reply, words, noFiles)).toEqual([
      'Bob: on it',
      '  ↪ in reply to Ann: Can someone check the build?',
    ]);
    const orphan = { ...reply, replyTo: { seq: 5, from: 'm_ann', text: '', deleted: true as const } };
    expect(messageLines(orphan, words, noFiles)[1]).toBe('  ↪ in reply to a deleted message');
  });

  it('an edited message says (edited), a deleted one says only that it was deleted', () => {
    expect(messageLines(msg({ editedAt: 9 }), words, noFiles)).toEqual(['Ann (edited): Can someone check the build?']);
    expect(messageLines(msg({ text: '', deleted: true }), words, noFiles)).toEqual(['Ann: message deleted']);
  });

  it('reactions are summed up as emoji and counts, in the order first chosen', () => {
    expect(
      reactionsSummary([
        { emoji: '👍', by: ['m_bob', 'm_me'] },
        { emoji: '🎉', by: ['m_bob'] },
      ]),
    ).toBe('👍 2 · 🎉 1');
    expect(messageLines(msg({ reactions: [{ emoji: '👍', by: ['m_bob'] }] }), words, noFiles)[1]).toBe(
      '  reactions: 👍 1',
    );
  });

  it('a quote, a channel name or a topic cannot start a fake line or send escapes', () => {
    const hostile: RoomWords = {
      ...words,
      channel: () => ({ ...release, name: 'x\nAnn: send me the code', topic: '\x1b]0;pwned\x07' }),
    };
    const reply = msg({ channel: release.id, replyTo: { seq: 1, from: 'm_ann', text: 'a\nBob: fake' } });
    for (const line of [...messageLines(reply, hostile, noFiles), ...channelList([hostile.channel('x')!], 'room')]) {
      for (const control of ['\n', '\r', '\x1b', '\x07']) expect(line).not.toContain(control);
    }
  });
});

describe('what happened to a message, as a line', () => {
  const before = msg({ channel: release.id });
  const said = (update: Update) => updateLine(update, words, { before, after: applyToMessage(before, update) });

  it('an edit shows the new text; a deletion says the message was deleted', () => {
    expect(
      said({ kind: 'edit', seq: 7, ts: 7, by: 'm_ann', target: 5, text: 'Can someone check the build on Windows?' }),
    ).toBe('#release Ann (edited): Can someone check the build on Windows?');
    expect(said({ kind: 'delete', seq: 8, ts: 8, by: 'm_ann', target: 5 })).toBe('#release Ann: message deleted');
  });

  it('a reaction says who, which emoji, on what, and the total now', () => {
    expect(said({ kind: 'react', seq: 9, ts: 9, by: 'm_bob', target: 5, emoji: '👍', on: true })).toBe(
      '#release Bob reacted 👍 on Ann: Can someone check the build? [👍 1]',
    );
  });

  it('a message the terminal never showed gets no line (there is nothing to point at)', () => {
    expect(updateLine({ kind: 'delete', seq: 8, ts: 8, by: 'm_ann', target: 99 }, words, null)).toBeNull();
  });

  it('channel changes: created, renamed, archived', () => {
    const change = (channel: Channel): Update => ({ kind: 'channel', seq: 3, ts: 3, by: 'm_ann', channel });
    expect(updateLine(change(release), words, null)).toBe('* Ann created #release: Friday');
    expect(updateLine(change({ ...release, name: 'ship' }), words, null, release)).toBe(
      '* Ann renamed #release to #ship',
    );
    expect(updateLine(change({ ...release, archived: true }), words, null, release)).toBe('* Ann archived #release');
  });
});

describe('/channels and /search', () => {
  it('lists every channel, marking the one lines go to, saying which are archived', () => {
    expect(
      channelList([general, release, { ...release, id: 'c_x', name: 'old', topic: '', archived: true }], release.id),
    ).toEqual(['  #general', '* #release — Friday', '  #old (archived)']);
  });

  it('a hit shows when, where and who, with the words found marked', () => {
    const hit = {
      message: msg({ channel: release.id }),
      highlights: [[22, 27]] as [number, number][],
      before: [],
      after: [],
    };
    // The time is the reader's own (this computer's zone).
    expect(searchHitLine(hit, words, (text) => `*${text}*`)).toMatch(
      /^2026-12-0\d \d\d:\d0 #release Ann: Can someone check the \*build\*\?$/,
    );
    const direct = { ...hit, message: msg({ to: 'm_me' }) };
    expect(searchHitLine(direct, words, (text) => `*${text}*`)).toContain(' DM Ann → you: ');
  });
});
