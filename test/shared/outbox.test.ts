/**
 * The outbox alone: a message typed while offline goes out once connected,
 * in order, paced to the room's rate, again after a reconnect, and a message
 * that could never be sent is refused at once with a reason.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox } from '../../src/shared/outbox.ts';
import { decodeClientFrame, DEFAULT_ROOM_LIMITS } from '../../src/shared/protocol.ts';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

function outbox() {
  const written: string[] = [];
  const box = new Outbox({ write: (frame) => written.push(frame), now: () => Date.now() });
  const texts = (): string[] =>
    written.map((raw) => {
      const decoded = decodeClientFrame(raw);
      if (!decoded.ok || decoded.frame.type !== 'send') throw new Error(`not a send frame: ${raw}`);
      return decoded.frame.text;
    });
  return { box, written, texts };
}

describe('messages typed before the room answers', () => {
  it('wait until connected, then go out in the order typed', () => {
    const { box, texts } = outbox();
    box.add('one', null, 'room');
    box.add('two', null, 'room');
    expect(texts()).toEqual([]);
    box.connected(DEFAULT_ROOM_LIMITS);
    expect(texts()).toEqual(['one', 'two']);
  });

  it('are written again after a reconnect until acknowledged, each frame encoded once', () => {
    const { box, written } = outbox();
    box.connected(DEFAULT_ROOM_LIMITS);
    const first = box.add('hello', 'm_bob', 'm_bob');
    box.add('again', null, 'room');
    expect(box.acknowledge(first.clientId)).toBe(true);
    box.disconnected();
    box.connected(DEFAULT_ROOM_LIMITS);
    expect(written).toHaveLength(3);
    expect(written[2]).toBe(written[1]);
    expect(box.list().map((m) => m.text)).toEqual(['again']);
    expect(box.acknowledge(first.clientId)).toBe(false);
  });
});

describe('pacing', () => {
  it('a long paste is paced to a little under the room rate instead of being refused', () => {
    const { box, written } = outbox();
    const limits = { ...DEFAULT_ROOM_LIMITS, messagesPerSecond: 10, messageBurst: 10 };
    box.connected(limits);
    for (let i = 0; i < 25; i++) box.add(`line ${i}`, null, 'room');
    expect(written).toHaveLength(5);
    vi.advanceTimersByTime(1_000);
    expect(written.length).toBeGreaterThanOrEqual(13);
    expect(written.length).toBeLessThanOrEqual(15);
    vi.advanceTimersByTime(10_000);
    expect(written).toHaveLength(25);
  });

  it('a message throttled by the host goes out again after the time it said', () => {
    const { box, written } = outbox();
    box.connected(DEFAULT_ROOM_LIMITS);
    const message = box.add('busy', null, 'room');
    box.throttled(message.clientId, 700);
    vi.advanceTimersByTime(699);
    expect(written).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(written).toHaveLength(2);
  });

  it('typing notices share the budget and are dropped when it is spent or offline', () => {
    const { box } = outbox();
    expect(box.takeForTyping()).toBe(false);
    box.connected({ ...DEFAULT_ROOM_LIMITS, messageBurst: 7 });
    const taken = Array.from({ length: 5 }, () => box.takeForTyping());
    expect(taken).toEqual([true, true, false, false, false]);
  });
});

describe('messages that can never be sent', () => {
  it('are refused at once, with a sentence, and never queued', () => {
    const { box, written } = outbox();
    box.connected({ ...DEFAULT_ROOM_LIMITS, maxMessageBytes: 200 });
    const results = [
      box.add('   ', null, 'room'),
      box.add('broken \uD800', null, 'room'),
      box.add('x'.repeat(300), null, 'room'),
      box.add('x'.repeat(16_001), null, 'room'),
    ];
    expect(results.map((m) => m.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(results.map((m) => m.error)).toEqual([
      expect.stringMatching(/empty/i),
      expect.stringMatching(/broken characters/),
      expect.stringMatching(/too large/),
      expect.stringMatching(/too large/),
    ]);
    expect(written).toEqual([]);
    expect(box.list()).toEqual([]);
  });

  it('a message the host refused stays, failed, until retried, and then goes out again', () => {
    const { box, written } = outbox();
    box.connected(DEFAULT_ROOM_LIMITS);
    const message = box.add('to nobody', 'm_gone', 'm_gone');
    expect(box.fail(message.clientId, 'That person is not in this room.')).toBe(true);
    expect(box.list()[0]).toMatchObject({ status: 'failed', error: 'That person is not in this room.' });
    box.disconnected();
    box.connected(DEFAULT_ROOM_LIMITS);
    expect(written).toHaveLength(1);
    expect(box.retry(message.clientId)).toBe(true);
    expect(written).toHaveLength(2);
    expect(box.list()[0]).toMatchObject({ status: 'pending' });
    expect(box.list()[0]).not.toHaveProperty('error');
    expect(box.retry(message.clientId)).toBe(false);
  });
});

describe('a reply to a channel (v1.5)', () => {
  it('carries its channel, reply and mentions in every write; the default channel goes unnamed', () => {
    const { box, written } = outbox();
    box.connected(DEFAULT_ROOM_LIMITS);
    box.add('yes', null, 'c_0123456789abcdef', undefined, {
      channel: 'c_0123456789abcdef',
      replyTo: 4,
      mentions: ['m_ann', 'm_ann'],
    });
    box.add('plain', null, 'room', undefined, { channel: 'room', mentions: [] });
    box.disconnected();
    box.connected(DEFAULT_ROOM_LIMITS);
    const frames = written.map((raw) => JSON.parse(raw) as Record<string, unknown>);
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatchObject({ channel: 'c_0123456789abcdef', replyTo: 4, mentions: ['m_ann'] });
    expect(frames[1]).not.toHaveProperty('channel');
    expect(frames[1]).not.toHaveProperty('mentions');
    expect(written[2]).toBe(written[0]);
    expect(written[3]).toBe(written[1]);
  });

  it('a message with files keeps its channel and reply once its files are uploaded', () => {
    const { box, written } = outbox();
    box.connected(DEFAULT_ROOM_LIMITS);
    const held = box.add('', null, 'c_0123456789abcdef', ['t1'], { channel: 'c_0123456789abcdef', replyTo: 2 });
    expect(written).toEqual([]);
    box.release(held.clientId, ['f_aaaaaaaaaaaaaaaaaaaaaa']);
    expect(JSON.parse(written[0]!)).toMatchObject({
      channel: 'c_0123456789abcdef',
      replyTo: 2,
      files: ['f_aaaaaaaaaaaaaaaaaaaaaa'],
    });
  });

  it('edits and reactions share the message budget: past it, one is told how long to wait', () => {
    const { box } = outbox();
    box.connected({ ...DEFAULT_ROOM_LIMITS, messagesPerSecond: 1, messageBurst: 7 });
    expect(box.takeForRequest().ok).toBe(true);
    expect(box.takeForRequest().ok).toBe(true);
    const third = box.takeForRequest();
    expect(third.ok).toBe(false);
    expect(!third.ok && third.retryAfterMs).toBeGreaterThan(0);
  });
});
