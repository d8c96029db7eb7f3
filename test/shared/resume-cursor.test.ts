/**
 * The resume position, alone: what a member resumes from after a drop and how
 * a long absence is caught up page by page. No sockets (RoomClient feeds it).
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/protocol.ts';
import { ResumeCursor } from '../../src/shared/resume-cursor.ts';

const msg = (seq: number): ChatMessage => ({
  seq,
  from: 'm_a',
  to: null,
  text: `t${seq}`,
  ts: seq,
  clientId: `c${seq}`,
});
const seqs = (messages: readonly ChatMessage[]): number[] => messages.map((m) => m.seq);
const welcome = (history: number[], options: { resumed?: boolean; hasMore?: boolean; lastSeq?: number } = {}) => ({
  resumed: options.resumed ?? true,
  history: history.map(msg),
  hasMore: options.hasMore ?? false,
  lastSeq: options.lastSeq ?? history.at(-1) ?? 0,
});

describe('where a member resumes from', () => {
  it('a first join starts at the newest message of the room, not at the end of the page it was shown', () => {
    const cursor = new ResumeCursor();
    expect(cursor.hello(false)).toBe(0);
    const answer = cursor.welcome(welcome([8, 9, 10], { resumed: false, hasMore: true, lastSeq: 10 }), false, false);
    expect(answer).toEqual({ continues: false, fetchAfter: null });
    expect(cursor.position).toBe(10);
  });

  it('live messages and acks move the position forward, never back', () => {
    const cursor = new ResumeCursor(5);
    cursor.live(7);
    cursor.acknowledged(6);
    expect(cursor.position).toBe(7);
  });

  it('a resume that carried everything missed continues the session and asks for nothing more', () => {
    const cursor = new ResumeCursor(5);
    expect(cursor.hello(true)).toBe(5);
    expect(cursor.welcome(welcome([6, 7]), false, true)).toEqual({ continues: true, fetchAfter: null });
    expect(cursor.position).toBe(7);
  });

  it('a host that lost its history starts the count again', () => {
    const cursor = new ResumeCursor(500);
    cursor.hello(true);
    cursor.welcome(welcome([], { lastSeq: 3 }), false, true);
    expect(cursor.position).toBe(3);
  });

  it('a token the host no longer knows (a new identity) starts the count again', () => {
    const cursor = new ResumeCursor(40);
    cursor.hello(true);
    const answer = cursor.welcome(welcome([1, 2], { resumed: false, lastSeq: 2 }), true, true);
    expect(answer.continues).toBe(false);
    expect(cursor.position).toBe(2);
  });
});

describe('catching up after a long absence', () => {
  it('missed more than a page: pages are asked for one after another until none is left', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    expect(cursor.welcome(welcome([11, 12], { hasMore: true, lastSeq: 30 }), false, true)).toEqual({
      continues: true,
      fetchAfter: 12,
    });
    expect(cursor.catchingUpFrom).toBe(12);
    const first = cursor.page([13, 14].map(msg), true);
    expect(first).toEqual({ messages: [msg(13), msg(14)], fetchAfter: 14 });
    const last = cursor.page([15].map(msg), false);
    expect(last.fetchAfter).toBeNull();
    expect(cursor.catchingUpFrom).toBeNull();
    expect(cursor.position).toBe(15);
  });

  it('messages that arrived live during the catch-up are not delivered again by a page', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 20 }), false, true);
    cursor.live(20);
    const page = cursor.page([12, 20].map(msg), false);
    expect(seqs(page.messages)).toEqual([12]);
    expect(cursor.position).toBe(20);
  });

  it('a drop in the middle of a catch-up resumes from the gap, not from what arrived live', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 20 }), false, true);
    cursor.live(20);
    expect(cursor.position).toBe(11);
    // Dropped here. The next hello resumes from 11, so 12..19 are not skipped.
    expect(cursor.hello(true)).toBe(11);
    const again = cursor.welcome(welcome([12, 13], { hasMore: true, lastSeq: 20 }), false, true);
    expect(again.fetchAfter).toBe(13);
    // What was delivered live before the drop is still skipped.
    expect(seqs(cursor.page([14, 20].map(msg), false).messages)).toEqual([14]);
    expect(cursor.position).toBe(20);
  });

  it('an empty room resumed after an earlier welcome continues the session', () => {
    const cursor = new ResumeCursor(0);
    cursor.hello(true);
    expect(cursor.welcome(welcome([], { lastSeq: 0 }), false, true).continues).toBe(true);
    expect(cursor.welcome(welcome([], { lastSeq: 0 }), false, false).continues).toBe(false);
  });
});
