/**
 * Which display name each member of a room gets: no two members may hold names that look alike,
 * and a member who left keeps their name for a while, so a newcomer cannot take it over.
 * Whether a name is acceptable at all is decided before, by checkDisplayName (src/shared/display-name.ts).
 */
import { rectifyConfusion } from 'unicode-confusables';
import { withSuffix } from '../shared/display-name.ts';
import { WIRE_LIMITS } from '../shared/protocol.ts';

export interface NameRegistryOptions {
  /**
   * How long a departed member's name stays reserved for their identity. Default 24 h: a
   * colleague who shuts the laptop in the evening finds their name waiting in the morning.
   */
  reserveMs?: number;
  /**
   * Reservations of departed members kept at most (default 20,000, a few MB). Someone with the
   * code could otherwise join under a new name every second from many machines and grow this
   * for a day; past the cap the reservation that would end first is given up.
   */
  maxReservations?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// The interface draws "You" itself; a look-alike such as Cyrillic "уоu" is kept from it too.
const RESERVED_KEYS = new Set(keysOf('you'));

interface Holding {
  name: string;
  keys: readonly string[];
  /** When the reservation ends; Infinity while the member is in the room. */
  until: number;
}

/**
 * Holds one name per member id. Its size stays bounded because a holding only ever exists for an
 * identity that really joined (the host claims a name after the join code is accepted, and reserves
 * names only for identities loaded from the store), and every holding of a departed member expires
 * `reserveMs` after they left. So it is as large as the room's recent membership, which the store bounds.
 */
export class NameRegistry {
  readonly #reserveMs: number;
  readonly #maxReservations: number;
  #reservations = 0;
  readonly #byMember = new Map<string, Holding>();
  /** Key of a name → the member id holding it. */
  readonly #byKey = new Map<string, string>();

  constructor(options: NameRegistryOptions = {}) {
    this.#reserveMs = options.reserveMs ?? DAY_MS;
    this.#maxReservations = options.maxReservations ?? 20_000;
  }

  /**
   * The name `memberId` gets when it asks for `wanted`: `wanted` itself if nobody else holds a
   * look-alike, otherwise `wanted (2)`, `wanted (3)`, ... shortened to fit the wire limit.
   * The member's previous name, if any, is given up.
   */
  claim(wanted: string, memberId: string, now: number): string {
    this.#drop(memberId);
    let name = wanted;
    for (let n = 2; !this.#isFree(keysOf(name), now); n++) {
      name = withSuffix(wanted, ` (${n})`, WIRE_LIMITS.nameChars);
    }
    this.#hold(memberId, name, Infinity);
    return name;
  }

  /** The member left: its name stays reserved for it for `reserveMs` from `now`. */
  release(memberId: string, now: number): void {
    const holding = this.#byMember.get(memberId);
    if (!holding || holding.until !== Infinity) return;
    holding.until = now + this.#reserveMs;
    this.#reservations++;
    if (this.#reservations > this.#maxReservations) this.#dropSoonestReservation();
  }

  #dropSoonestReservation(): void {
    let soonest: string | null = null;
    let until = Infinity;
    for (const [memberId, holding] of this.#byMember) {
      if (holding.until < until) [soonest, until] = [memberId, holding.until];
    }
    if (soonest !== null) this.#drop(soonest);
  }

  /**
   * Reserves `name` for an identity loaded from the store, until `until`. If a look-alike is
   * already held (names stored before these rules), nothing is reserved: the identity gets a
   * numbered name when it returns.
   */
  reserve(name: string, memberId: string, until: number): void {
    this.#drop(memberId);
    const keys = keysOf(name);
    if (this.#isFree(keys, -Infinity)) this.#hold(memberId, name, until, keys);
    if (this.#reservations > this.#maxReservations) this.#dropSoonestReservation();
  }

  /** Forgets reservations that ended at or before `now`. */
  prune(now: number): void {
    for (const [memberId, holding] of this.#byMember) {
      if (holding.until <= now) this.#drop(memberId);
    }
  }

  #isFree(keys: readonly string[], now: number): boolean {
    return keys.every((key) => {
      if (RESERVED_KEYS.has(key)) return false;
      const holder = this.#byKey.get(key);
      if (holder === undefined) return true;
      // An ended reservation frees the name at once, whenever prune() last ran.
      if (this.#byMember.get(holder)!.until > now) return false;
      this.#drop(holder);
      return true;
    });
  }

  #hold(memberId: string, name: string, until: number, keys = keysOf(name)): void {
    this.#byMember.set(memberId, { name, keys, until });
    if (until !== Infinity) this.#reservations++;
    for (const key of keys) this.#byKey.set(key, memberId);
  }

  #drop(memberId: string): void {
    const holding = this.#byMember.get(memberId);
    if (!holding) return;
    this.#byMember.delete(memberId);
    if (holding.until !== Infinity) this.#reservations--;
    for (const key of holding.keys) {
      if (this.#byKey.get(key) === memberId) this.#byKey.delete(key);
    }
  }
}

/**
 * The keys under which a name is held: its UTS #39 confusable skeleton, case-blind, so "alice",
 * "Alice", Cyrillic "аlice" and fullwidth "ａｌｉｃｅ" share one. Two keys, because the skeleton
 * does not commute with case: confusables.txt maps capital I to l, so "ALICE" folds to "allce"
 * while "alice" stays "alice". Folding the lower-cased name as well keeps "ALICE" with "alice";
 * folding the name as typed keeps "Ian" with "lan".
 */
export function keysOf(name: string): string[] {
  const keys = new Set([fold(name), fold(name.toLowerCase())]);
  return [...keys];
}

function fold(name: string): string {
  return skeleton(skeleton(name).toLowerCase());
}

// rectifyConfusion drops zero-width spaces and joiners; other default-ignorable characters
// (Hangul fillers, soft hyphen, bidi controls) and the blank braille cell draw nothing either.
function skeleton(text: string): string {
  return rectifyConfusion(text.normalize('NFD'))
    .replace(/[\p{Default_Ignorable_Code_Point}\u2800]/gu, '')
    .normalize('NFD');
}
