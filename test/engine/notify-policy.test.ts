import { describe, expect, it } from 'vitest';
import { mentions, shouldNotify } from '../../src/shared/notify-policy.ts';
import type { ChatMessage } from '../../src/shared/protocol.ts';

const me = { id: 'm_me', name: 'Ana' };
const message = (over: Partial<ChatMessage>): ChatMessage => ({
  seq: 1,
  from: 'm_bob',
  to: null,
  text: 'hello',
  ts: 0,
  clientId: 'c',
  ...over,
});
const away = { windowFocused: false, notifyDirect: true, notifyMentions: true };

describe('desktop notifications', () => {
  it('a direct message to me notifies when the window is not in front', () => {
    expect(shouldNotify(message({ to: 'm_me' }), me, away)).toBe(true);
    expect(shouldNotify(message({ to: 'm_me' }), me, { ...away, windowFocused: true })).toBe(false);
    expect(shouldNotify(message({ to: 'm_me' }), me, { ...away, notifyDirect: false })).toBe(false);
  });

  it('a room message notifies only when it mentions my name as a word', () => {
    expect(shouldNotify(message({ text: 'ask @ana about it' }), me, away)).toBe(true);
    expect(shouldNotify(message({ text: 'Ana, lunch?' }), me, away)).toBe(true);
    expect(shouldNotify(message({ text: 'banana bread' }), me, away)).toBe(false);
    expect(shouldNotify(message({ text: 'Ana?' }), me, { ...away, notifyMentions: false })).toBe(false);
  });

  it('my own messages and other people’s direct messages never notify me', () => {
    expect(shouldNotify(message({ from: 'm_me', to: 'm_bob', text: 'Ana' }), me, away)).toBe(false);
    expect(shouldNotify(message({ to: 'm_cat', text: 'Ana' }), me, away)).toBe(false);
  });

  it('names with symbols are matched literally', () => {
    expect(mentions('ping j.r. now', 'J.R.')).toBe(true);
    expect(mentions('ping jar now', 'J.R.')).toBe(false);
  });
});

describe('mentions in v1.5 messages', () => {
  it('a message that lists me among its mentions notifies, in the room or in a channel', () => {
    expect(shouldNotify(message({ text: '@Ana look', mentions: ['m_me'] }), me, away)).toBe(true);
    expect(shouldNotify(message({ text: 'look', channel: 'c_0123456789abcdef', mentions: ['m_me'] }), me, away)).toBe(
      true,
    );
  });

  it('a message whose list leaves me out does not notify, even when my name is in its text', () => {
    // Another Ana was meant (picked from the list), or the name was just written in passing.
    expect(shouldNotify(message({ text: '@Ana look', mentions: ['m_other_ana'] }), me, away)).toBe(false);
    expect(shouldNotify(message({ text: 'Ana said so', mentions: [] }), me, away)).toBe(false);
  });

  it('a channel message without a mention never notifies; one from an older client falls back to my name in its text', () => {
    expect(shouldNotify(message({ text: 'release at 5', channel: 'c_0123456789abcdef' }), me, away)).toBe(false);
    expect(shouldNotify(message({ text: 'ask @ana' }), me, away)).toBe(true);
  });

  it('a deleted message never notifies', () => {
    expect(shouldNotify(message({ to: 'm_me', text: '', deleted: true }), me, away)).toBe(false);
    expect(shouldNotify(message({ text: '', mentions: ['m_me'], deleted: true }), me, away)).toBe(false);
  });
});
