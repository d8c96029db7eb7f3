import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as v from 'valibot';
import type { RecentRoom } from '../shared/chat-api.ts';

const RecentRoomSchema = v.object({
  address: v.string(),
  roomName: v.string(),
  code: v.string(),
  name: v.string(),
  lastJoined: v.number(),
  /** This user's identity in that room, so rejoining keeps the same member and direct messages. */
  token: v.optional(v.string()),
});
export type StoredRecentRoom = v.InferOutput<typeof RecentRoomSchema>;

const SettingsSchema = v.object({
  displayName: v.optional(v.string(), ''),
  notifyDirect: v.optional(v.boolean(), true),
  notifyMentions: v.optional(v.boolean(), true),
  recentRooms: v.optional(v.array(RecentRoomSchema), []),
  windowBounds: v.optional(v.object({ x: v.number(), y: v.number(), width: v.number(), height: v.number() })),
});
export type Settings = v.InferOutput<typeof SettingsSchema>;

const MAX_RECENT = 8;

/**
 * Settings in one JSON file in the user data folder. A damaged or missing
 * file falls back to defaults rather than stopping the app; writes go to a
 * temporary file first so a crash mid-write never leaves half a file.
 *
 * The file holds join codes and resume tokens, so only this user may read it
 * (0600, in a 0700 folder if we create it); a file left readable by an older
 * version is tightened on load. On Windows chmod changes little and harms nothing.
 */
export class SettingsFile {
  readonly path: string;
  #settings: Settings;

  constructor(path: string) {
    this.path = path;
    let raw: unknown = {};
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // First start, or a damaged file: defaults.
    }
    try {
      chmodSync(path, 0o600);
    } catch {
      // No file yet; and any file is replaced by a 0600 one at the next write.
    }
    const parsed = v.safeParse(SettingsSchema, raw);
    this.#settings = parsed.success ? parsed.output : v.parse(SettingsSchema, {});
  }

  get value(): Readonly<Settings> {
    return this.#settings;
  }

  update(change: Partial<Settings>): void {
    this.#settings = { ...this.#settings, ...change };
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.tmp`;
    // A temporary file left by a crash keeps its old mode when rewritten: start afresh.
    rmSync(temporary, { force: true });
    writeFileSync(temporary, JSON.stringify(this.#settings, null, 2), { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  /** Adds or refreshes a room at the top of the recent list. */
  rememberRoom(room: StoredRecentRoom): void {
    const others = this.#settings.recentRooms.filter((r) => !(r.address === room.address && r.name === room.name));
    this.update({ recentRooms: [room, ...others].slice(0, MAX_RECENT) });
  }

  findRoom(address: string, name: string): StoredRecentRoom | undefined {
    return this.#settings.recentRooms.find((r) => r.address === address && r.name === name);
  }

  /** The recent rooms as the interface sees them: without resume tokens. */
  recentRooms(): RecentRoom[] {
    return this.#settings.recentRooms.map(({ address, roomName, code, name, lastJoined }) => ({
      address,
      roomName,
      code,
      name,
      lastJoined,
    }));
  }
}
