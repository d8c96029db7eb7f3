import type { Member } from '../../../shared/protocol.ts';

/** Who is in the room, and the names of people who were, for old messages and conversations. */
export class PresenceState {
  members = $state.raw<readonly Member[]>([]);
  youId = $state<string | null>(null);
  #names = $state.raw<Readonly<Record<string, string>>>({});

  others = $derived(this.members.filter((m) => m.id !== this.youId));

  reset(you: Member, members: readonly Member[]): void {
    this.youId = you.id;
    const all = members.some((m) => m.id === you.id) ? members : [you, ...members];
    this.members = all;
    this.#remember(all);
  }

  upsert(member: Member): void {
    const index = this.members.findIndex((m) => m.id === member.id);
    this.members = index < 0 ? [...this.members, member] : this.members.map((m, i) => (i === index ? member : m));
    this.#remember([member]);
  }

  remove(id: string): void {
    this.members = this.members.filter((m) => m.id !== id);
  }

  get(id: string): Member | undefined {
    return this.members.find((m) => m.id === id);
  }

  nameOf(id: string): string {
    return this.#names[id] ?? 'Someone';
  }

  /** Names the host told for people on a page of history, those who left included. */
  learn(names: Readonly<Record<string, string>> | undefined): void {
    if (!names) return;
    const entries = Object.entries(names).filter(([id, name]) => this.#names[id] !== name);
    if (entries.length === 0) return;
    this.#names = { ...this.#names, ...Object.fromEntries(entries) };
  }

  clear(): void {
    this.members = [];
    this.youId = null;
  }

  #remember(members: readonly Member[]): void {
    const changed = members.some((m) => this.#names[m.id] !== m.name);
    if (!changed) return;
    const next = { ...this.#names };
    for (const m of members) next[m.id] = m.name;
    this.#names = next;
  }
}
