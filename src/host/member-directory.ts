/**
 * The room's members in name order (protocol v1.6): a large room's welcome lists the first page of
 * it, and `members` requests page through it, optionally filtered by a piece of a name. Names are
 * compared folded (NFKD, combining marks dropped, lower case), so "émile" sorts and matches as
 * "Emile"; ties go by id, so the order is total and a page never repeats or skips anyone.
 */
import { nameKey } from '../shared/member-order.ts';

/** What the directory needs of a member: its id and its folded name, computed once when it enters. */
export interface Listed {
  readonly id: string;
  readonly nameKey: string;
}

/** A name as the directory compares it: the clients' own fold (shared/member-order.ts), so both orders agree. */
export const foldName = nameKey;

const before = (a: Listed, b: Listed): boolean => a.nameKey < b.nameKey || (a.nameKey === b.nameKey && a.id < b.id);

export class MemberDirectory<T extends Listed> {
  /** Sorted by (nameKey, id). A splice per join or leave moves at most N pointers: ~10 µs at 10,000. */
  readonly #sorted: T[] = [];

  get size(): number {
    return this.#sorted.length;
  }

  add(member: T): void {
    const at = this.#position(member);
    if (this.#sorted[at] === member) return;
    this.#sorted.splice(at, 0, member);
  }

  remove(member: T): void {
    const at = this.#position(member);
    if (this.#sorted[at] === member) this.#sorted.splice(at, 1);
  }

  /**
   * Members from `offset` (in the order, among those whose name contains `query` folded) up to
   * `limit` of them, and how many match in all. Without a query it is a slice; with one, one pass
   * over the room (measured: ~1 ms for 10,000 members, see test/host/member-directory.test.ts).
   */
  page(query: string, offset: number, limit: number): { members: T[]; total: number } {
    const wanted = foldName(query.trim());
    if (wanted.length === 0) {
      return { members: this.#sorted.slice(offset, offset + limit), total: this.#sorted.length };
    }
    const members: T[] = [];
    let total = 0;
    for (const member of this.#sorted) {
      if (!member.nameKey.includes(wanted)) continue;
      if (total >= offset && members.length < limit) members.push(member);
      total++;
    }
    return { members, total };
  }

  /** Where `member` is, or would be inserted (binary search: O(log N)). */
  #position(member: T): number {
    let low = 0;
    let high = this.#sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(this.#sorted[middle]!, member)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
