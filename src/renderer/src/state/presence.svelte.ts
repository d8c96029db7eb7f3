import { SvelteMap } from 'svelte/reactivity';
import type { Member } from '../../../shared/protocol.ts';

/**
 * Who is in the room, and the names of people who were, for old messages and conversations.
 *
 * Members are kept in a map by id, so a join storm of thousands costs one map write per event; the
 * `members` array is derived once per update of the page, not rebuilt for each event. `get` and
 * `nameOf` follow only the id they ask about.
 */
export class PresenceState {
  readonly #byId = new SvelteMap<string, Member>();
  readonly #names = new SvelteMap<string, string>();
  youId = $state<string | null>(null);

  /** Everyone known to be here, in the order they came (in a large room: only those we were told about). */
  members = $derived(Array.from(this.#byId.values()));
  others = $derived(this.members.filter((m) => m.id !== this.youId));

  reset(you: Member, members: readonly Member[]): void {
    this.youId = you.id;
    this.#byId.clear();
    if (!members.some((m) => m.id === you.id)) this.#byId.set(you.id, you);
    for (const m of members) this.#byId.set(m.id, m);
    this.#remember(you);
    for (const m of members) this.#remember(m);
  }

  upsert(member: Member): void {
    this.#byId.set(member.id, member);
    this.#remember(member);
  }

  remove(id: string): void {
    this.#byId.delete(id);
  }

  get(id: string): Member | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  nameOf(id: string): string {
    return this.#names.get(id) ?? 'Someone';
  }

  /** Names the host told for people on a page of history, those who left included. */
  learn(names: Readonly<Record<string, string>> | undefined): void {
    if (!names) return;
    for (const [id, name] of Object.entries(names)) if (this.#names.get(id) !== name) this.#names.set(id, name);
  }

  /** Names of members seen on a page of the member list (a large room): messages from them name them. */
  learnMembers(members: readonly Member[]): void {
    for (const m of members) this.#remember(m);
  }

  clear(): void {
    this.#byId.clear();
    this.youId = null;
  }

  #remember(member: Member): void {
    // Writing an unchanged name would wake every reader of it.
    if (this.#names.get(member.id) !== member.name) this.#names.set(member.id, member.name);
  }
}
