/**
 * The resume position, alone: what a member resumes from after a drop and how
 * a long absence is caught up page by page. No sockets (RoomClient feeds it).
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, Update } from '../../src/shared/protocol.ts';
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
    expect(answer).toEqual({ continues: false, fetchAfter: null, updates: [] });
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
    expect(cursor.welcome(welcome([6, 7]), false, true)).toEqual({ continues: true, fetchAfter: null, updates: [] });
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
      updates: [],
    });
    expect(cursor.catchingUpFrom).toBe(12);
    const first = cursor.page([13, 14].map(msg), true);
    expect(first).toEqual({ messages: [msg(13), msg(14)], updates: [], fetchAfter: 14 });
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

const edit = (seq: number, target: number, text: string): Update => ({
  kind: 'edit',
  seq,
  ts: seq,
  by: 'm_a',
  target,
  text,
});
const react = (seq: number, target: number, on: boolean): Update => ({
  kind: 'react',
  seq,
  ts: seq,
  by: 'm_b',
  target,
  emoji: '👍',
  on,
});
const rename = (seq: number, name: string): Update => ({
  kind: 'channel',
  seq,
  ts: seq,
  by: 'm_a',
  channel: { id: 'c_0123456789abcdef', name, topic: '', createdBy: 'm_a', createdAt: 1, archived: false },
});

describe('edits, deletions and reactions made while away (v1.5)', () => {
  it('an update counts for the resume position like a message', () => {
    const cursor = new ResumeCursor(5);
    cursor.liveUpdate(edit(9, 3, 'fixed'));
    expect(cursor.position).toBe(9);
  });

  it('a resume that brought only updates continues from the newest of them, not from the room’s end', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    const answer = cursor.welcome(
      { ...welcome([], { hasMore: true, lastSeq: 90 }), updates: [edit(11, 2, 'a'), edit(12, 3, 'b')] },
      false,
      true,
    );
    expect(answer.fetchAfter).toBe(12);
    expect(answer.updates.map((u) => u.seq)).toEqual([11, 12]);
    expect(cursor.position).toBe(12);
  });

  it('a catch-up page’s updates count, and the next page is asked after the newest seq of either kind', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 40 }), false, true);
    const step = cursor.page([msg(12)], true, [edit(13, 4, 'x'), react(14, 12, true)]);
    expect(step.fetchAfter).toBe(14);
    expect(step.updates.map((u) => u.seq)).toEqual([13, 14]);
    expect(cursor.position).toBe(14);
  });

  it('a reaction taken back live is not put back by an older one a later page brings', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 40 }), false, true);
    cursor.liveUpdate(react(40, 11, false));
    const step = cursor.page([], false, [react(20, 11, true), react(40, 11, false), edit(21, 11, 'kept')]);
    expect(step.updates.map((u) => u.seq)).toEqual([21]);
    expect(cursor.position).toBe(40);
  });

  it('a channel renamed live keeps its new name when a page brings an older rename', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 40 }), false, true);
    cursor.liveUpdate(rename(39, 'new'));
    expect(cursor.page([], false, [rename(15, 'old')]).updates).toEqual([]);
  });

  it('a drop in the middle of a catch-up still drops the older updates overtaken live before it', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 40 }), false, true);
    cursor.liveUpdate(react(40, 11, false));
    expect(cursor.hello(true)).toBe(11);
    const again = cursor.welcome(
      { ...welcome([], { hasMore: false, lastSeq: 40 }), updates: [react(20, 11, true)] },
      false,
      true,
    );
    expect(again.updates).toEqual([]);
    expect(cursor.position).toBe(40);
  });

  it('once caught up, nothing is filtered any more', () => {
    const cursor = new ResumeCursor(10);
    cursor.hello(true);
    cursor.welcome(welcome([11], { hasMore: true, lastSeq: 40 }), false, true);
    cursor.liveUpdate(react(40, 11, false));
    cursor.page([], false, []);
    cursor.hello(true);
    const later = cursor.welcome({ ...welcome([], { lastSeq: 50 }), updates: [react(45, 11, true)] }, false, true);
    expect(later.updates.map((u) => u.seq)).toEqual([45]);
  });
});
