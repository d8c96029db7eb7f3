import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { conversationOf, mergeBySeq } from '../../src/renderer/src/lib/conversation.ts';
import { splitLinks } from '../../src/renderer/src/lib/links.ts';
import { splitMessage } from '../../src/renderer/src/lib/split-message.ts';
import { IncrementalTimeline, buildTimeline, dayLabel } from '../../src/renderer/src/lib/timeline.ts';
import {
  TYPING_TTL_MS,
  clearTyping,
  pruneTyping,
  renewTyping,
  shouldSendTyping,
  typingIn,
} from '../../src/renderer/src/lib/typing.ts';
import { countsAsUnread, totalUnread, unreadBadge } from '../../src/renderer/src/lib/unread.ts';
import {
  addressProblem,
  codeProblem,
  generateJoinCode,
  nameProblem,
  portProblem,
} from '../../src/renderer/src/lib/validation.ts';
import { connectionSummary } from '../../src/renderer/src/lib/format.ts';

const T0 = new Date(2025, 4, 12, 10, 0, 0).getTime();
const msg = (seq: number, from = 'a', extra: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  from,
  to: null,
  text: `m${seq}`,
  ts: T0 + seq * 1000,
  clientId: `c${seq}`,
  ...extra,
});

describe('conversation of a message', () => {
  it('puts room messages in the room and direct messages with the other person', () => {
    expect(conversationOf({ from: 'bob', to: null }, 'me')).toBe('room');
    expect(conversationOf({ from: 'bob', to: 'me' }, 'me')).toBe('bob');
    expect(conversationOf({ from: 'me', to: 'bob' }, 'me')).toBe('bob');
  });
});

describe('merging messages by seq', () => {
  it('appends newer, prepends older, and drops duplicates', () => {
    const a = mergeBySeq([], [msg(3), msg(2), msg(3)]);
    expect(a.messages.map((m) => m.seq)).toEqual([2, 3]);
    const b = mergeBySeq(a.messages, [msg(4)]);
    expect(b.kind).toBe('append');
    const c = mergeBySeq(b.messages, [msg(1), msg(0)]);
    expect(c.kind).toBe('prepend');
    expect(c.messages.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4]);
    const d = mergeBySeq(c.messages, [msg(2), msg(4)]);
    expect(d.kind).toBe('none');
    expect(d.messages).toBe(c.messages);
  });

  it('fills gaps in the middle', () => {
    const r = mergeBySeq([msg(1), msg(5)], [msg(3), msg(5), msg(7)]);
    expect(r.messages.map((m) => m.seq)).toEqual([1, 3, 5, 7]);
    expect(r.kind).toBe('append');
    const g = mergeBySeq([msg(1), msg(5)], [msg(3)]);
    expect(g.kind).toBe('mixed');
  });
});

describe('links in message text', () => {
  it('makes only http(s) URLs into links, keeping punctuation outside', () => {
    expect(splitLinks('see https://example.org/a?b=1. ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: '. ok' },
    ]);
    expect(splitLinks('(http://x.test/wiki/A_(b))')).toEqual([
      { kind: 'text', text: '(' },
      { kind: 'link', text: 'http://x.test/wiki/A_(b)', href: 'http://x.test/wiki/A_(b)' },
      { kind: 'text', text: ')' },
    ]);
  });

  it('leaves other schemes and markup as plain text', () => {
    const text = 'javascript:alert(1) <img src=x onerror=alert(1)> file:///etc/passwd';
    expect(splitLinks(text)).toEqual([{ kind: 'text', text }]);
    expect(splitLinks('')).toEqual([]);
    expect(splitLinks('<a href="https://evil.test">x</a>')).toEqual([
      { kind: 'text', text: '<a href="' },
      { kind: 'link', text: 'https://evil.test', href: 'https://evil.test' },
      { kind: 'text', text: '">x</a>' },
    ]);
  });
});

describe('timeline grouping', () => {
  it('groups consecutive messages by sender and separates days', () => {
    const nextDay = T0 + 24 * 3600_000;
    const rows = buildTimeline({
      messages: [msg(1, 'a'), msg(2, 'a'), msg(3, 'b'), msg(4, 'b', { ts: nextDay })],
      me: 'b',
      now: nextDay,
    });
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'message', 'message', 'day', 'message']);
    const groupStarts = rows.flatMap((r) => (r.kind === 'message' ? [r.groupStart] : []));
    expect(groupStarts).toEqual([true, false, true, true]);
    expect(rows[0]).toMatchObject({ label: 'Yesterday' });
    expect(rows[4]).toMatchObject({ label: 'Today' });
    expect(rows[3]).toMatchObject({ own: true, status: 'sent' });
  });

  it('starts a new group after a long pause', () => {
    const rows = buildTimeline({ messages: [msg(1, 'a'), msg(2, 'a', { ts: T0 + 10 * 60_000 })], me: 'x', now: T0 });
    expect(rows.filter((r) => r.kind === 'message' && r.groupStart)).toHaveLength(2);
  });

  it('places join/leave lines after the message they followed, and pending messages last', () => {
    const rows = buildTimeline({
      messages: [msg(1), msg(2)],
      notes: [{ id: 'n', afterSeq: 1, ts: T0 + 1500, text: 'Bob joined' }],
      outgoing: [{ clientId: 'x', conversation: 'room', text: 'hi', ts: T0 + 5000, status: 'pending' }],
      me: 'me',
      now: T0,
    });
    expect(rows.map((r) => r.key)).toEqual(['day-2025-05-12', 'm-1', 'note-n', 'm-2', 'c-x']);
  });

  it('continues from where it stopped when messages are only appended', () => {
    const inc = new IncrementalTimeline();
    const nextDay = T0 + 24 * 3600_000;
    const all = [msg(1, 'a'), msg(2, 'a'), msg(3, 'b'), msg(4, 'b', { ts: nextDay }), msg(5, 'b', { ts: nextDay + 1 })];
    const notes = [{ id: 'n', afterSeq: 2, ts: T0 + 2500, text: 'Bob joined' }];
    const outgoing = [{ clientId: 'x', conversation: 'room', text: 'hi', ts: nextDay + 2, status: 'pending' as const }];
    let messages: ChatMessage[] = [];
    for (const m of all) {
      messages = messages.concat([m]);
      const rows = inc.build({ messages, notes, outgoing, me: 'b', now: nextDay });
      expect(rows).toEqual(buildTimeline({ messages, notes, outgoing, me: 'b', now: nextDay }));
    }
    // Prepends and new notes rebuild from scratch, with the same result.
    const older = [msg(0, 'a'), ...messages];
    expect(inc.build({ messages: older, notes, me: 'b', now: nextDay })).toEqual(
      buildTimeline({ messages: older, notes, me: 'b', now: nextDay }),
    );
    const moreNotes = [...notes, { id: 'm', afterSeq: 5, ts: nextDay + 3, text: 'Ann left' }];
    expect(inc.build({ messages: older, notes: moreNotes, me: 'b', now: nextDay })).toEqual(
      buildTimeline({ messages: older, notes: moreNotes, me: 'b', now: nextDay }),
    );
  });

  it('labels older days with a date', () => {
    expect(dayLabel(T0, T0 + 5 * 24 * 3600_000)).not.toMatch(/Today|Yesterday/);
  });
});

describe('unread counting', () => {
  it('counts other people’s messages the person is not looking at', () => {
    expect(countsAsUnread({ from: 'me', to: null }, 'me', 'bob', true)).toBe(false);
    expect(countsAsUnread({ from: 'bob', to: 'me' }, 'me', 'bob', true)).toBe(false);
    expect(countsAsUnread({ from: 'bob', to: 'me' }, 'me', 'bob', false)).toBe(true);
    expect(countsAsUnread({ from: 'bob', to: 'me' }, 'me', 'room', true)).toBe(true);
    expect(countsAsUnread({ from: 'bob', to: null }, 'me', 'bob', true)).toBe(true);
    expect(totalUnread([1, 2, 0])).toBe(3);
    expect(unreadBadge(120)).toBe('99+');
  });
});

describe('typing indicators', () => {
  it('expire about five seconds after the last notice', () => {
    let e = renewTyping(new Map(), 'room', 'bob', T0);
    e = renewTyping(e, 'room', 'ann', T0 + 1000);
    expect(typingIn(e, 'room', T0 + 100)).toEqual(['bob', 'ann']);
    expect(typingIn(e, 'room', T0 + TYPING_TTL_MS + 1)).toEqual(['ann']);
    e = renewTyping(e, 'room', 'bob', T0 + 4000);
    expect(typingIn(e, 'room', T0 + 7000)).toEqual(['bob']);
    expect(typingIn(e, 'bob', T0)).toEqual([]);
    expect(pruneTyping(e, T0 + 20_000).size).toBe(0);
    expect(typingIn(clearTyping(e, 'room', 'bob'), 'room', T0 + 4500)).toEqual(['ann']);
  });

  it('are sent at most every three seconds', () => {
    expect(shouldSendTyping(null, T0)).toBe(true);
    expect(shouldSendTyping(T0, T0 + 2999)).toBe(false);
    expect(shouldSendTyping(T0, T0 + 3000)).toBe(true);
  });
});

describe('start screen validation', () => {
  it('accepts host[:port] and ws(s) URLs', () => {
    for (const ok of [
      '192.168.1.20:4747',
      '192.168.1.20',
      'laptop.local:4747',
      'ws://10.0.0.2:4747',
      'wss://chat.example.org/beacon',
      '[::1]:4747',
      'localhost',
    ]) {
      expect(addressProblem(ok), ok).toBeNull();
    }
  });

  it('explains malformed addresses', () => {
    expect(addressProblem('')).toMatch(/Enter the room address/);
    expect(addressProblem('ftp://10.0.0.2:4747')).toMatch(/ws:\/\//);
    expect(addressProblem('10.0.0.2:99999')).toMatch(/port/);
    expect(addressProblem('300.1.1.1')).toMatch(/not a valid/);
    expect(addressProblem('my host')).toMatch(/no spaces/);
    expect(addressProblem('10.0.0.2:47/x')).toMatch(/path/);
    expect(addressProblem('foo:bar:1')).toMatch(/not a valid room address/);
  });

  it('checks names, ports and codes', () => {
    expect(nameProblem('  ')).toBe('Enter your name.');
    expect(nameProblem('x'.repeat(41))).toMatch(/40/);
    expect(nameProblem('Ann')).toBeNull();
    expect(nameProblem('\u202Eecila')).toMatch(/invisible|direction|control/i);
    expect(nameProblem('You')).not.toBeNull();
    expect(portProblem('0')).toBeNull();
    expect(portProblem('65536')).not.toBeNull();
    expect(portProblem('47a')).not.toBeNull();
    expect(portProblem('4747')).toBeNull();
    expect(codeProblem('x'.repeat(65))).not.toBeNull();
  });

  it('generates eight-digit codes without modulo bias', () => {
    expect(generateJoinCode()).toMatch(/^\d{8}$/);
    const values = [4_294_967_295, 42];
    const code = generateJoinCode((buf) => {
      buf[0] = values.shift()!;
      return buf;
    });
    expect(code).toBe('00000042');
  });
});

describe('connection summary', () => {
  it('puts the state in words', () => {
    expect(connectionSummary({ kind: 'connected', address: 'a', rttMs: 3 }, 0).text).toBe('Connected · 3 ms');
    expect(
      connectionSummary(
        {
          kind: 'reconnecting',
          address: 'a',
          attempt: 3,
          nextRetryAt: 4000,
          reason: 'BEACON_ERR_NETWORK',
          reasonText: 'Lost',
        },
        100,
      ).text,
    ).toBe('Reconnecting · attempt 3 · next try in 4 s');
    expect(
      connectionSummary(
        {
          kind: 'offline',
          address: 'a',
          reason: 'BEACON_ERR_HOST_STOPPED',
          reasonText: 'The host stopped the room.',
          nextRetryAt: null,
        },
        0,
      ).text,
    ).toBe('Offline · The host stopped the room.');
  });
});

describe('long messages split for sending', () => {
  it('returns text that fits as it is', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
    expect(splitMessage('x'.repeat(16_000))).toEqual(['x'.repeat(16_000)]);
  });

  it('splits at paragraph, line or space, losing nothing and keeping every part within the limits', () => {
    const text = Array.from({ length: 3_000 }, (_, i) => `line ${i}`).join('\n');
    const parts = splitMessage(text);
    expect(parts.length).toBe(2);
    expect(parts.join('')).toBe(text);
    expect(parts[0]!.endsWith('\n')).toBe(true);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(16_000);
  });

  it('counts bytes too: 16,000 emoji are split by the frame size, never inside a surrogate pair', () => {
    const text = '😀'.repeat(16_000);
    const parts = splitMessage(text, { maxChars: 16_000, maxFrameBytes: 64 * 1024 });
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(part.isWellFormed()).toBe(true);
      expect(new TextEncoder().encode(JSON.stringify(part)).length).toBeLessThanOrEqual(64 * 1024);
    }
    const escapes = '\u0001'.repeat(16_000);
    expect(splitMessage(escapes).length).toBeGreaterThan(1);
  });
});
