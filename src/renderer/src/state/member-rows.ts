/**
 * Which member each row of the member list shows. Pure, so the arithmetic of "you first, then the
 * host's sorted pages" is tested without a page.
 */
import { nameKey } from '../../../shared/member-order.ts';
import type { Member } from '../../../shared/protocol.ts';

/** Whether `name` passes the filter as the host applies it: containing it, case and accents aside. */
export function nameMatches(name: string, query: string): boolean {
  const wanted = nameKey(query.trim());
  return wanted === '' || nameKey(name).includes(wanted);
}

/** A complete room's list: you first, then everyone else in the order they came, filtered by name. */
export function localRows(members: readonly Member[], youId: string | null, query: string): Member[] {
  const you = members.filter((m) => m.id === youId);
  const rest = members.filter((m) => m.id !== youId);
  return [...you, ...rest].filter((m) => nameMatches(m.name, query));
}

/** What row `index` of a large room's list is: you (pinned first), or a position in the host's order. */
export type PagedRow = { kind: 'you' } | { kind: 'sorted'; position: number };

/**
 * A large room's rows: you first when your name passes the filter (`pinned`), then the host's
 * sorted list, in which your own entry is a row that shows nothing (so no one is listed twice and
 * nobody after you is pushed off the end).
 */
export function pagedRow(index: number, pinned: boolean): PagedRow {
  if (pinned && index === 0) return { kind: 'you' };
  return { kind: 'sorted', position: pinned ? index - 1 : index };
}

/** Rows in a large room's list: the host's count of matches, plus your pinned row. */
export function pagedRowCount(total: number, pinned: boolean): number {
  return total + (pinned ? 1 : 0);
}

/**
 * The position a screen reader announces (aria-posinset, from 1) for a sorted row: you are 1, and
 * everyone after your own entry (when its place is known) moves up one, since that entry is hidden.
 */
export function announcedPosition(position: number, pinned: boolean, yourPosition: number | undefined): number {
  if (!pinned) return position + 1;
  return yourPosition !== undefined && position > yourPosition ? position + 1 : position + 2;
}
