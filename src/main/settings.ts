import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import * as v from 'valibot';
import { parseRoomAddress } from '../shared/address.ts';
import type { RecentRoom } from '../shared/chat-api.ts';
import { FINGERPRINT_HEX_DIGITS, type Fingerprint } from '../shared/fingerprint.ts';

/** Host machines whose fingerprint is kept at most, and the longest "host:port" kept. */
const MAX_PINS = 500;
const MAX_MACHINE_CHARS = 300;

const FingerprintSchema = v.pipe(
  v.string(),
  v.regex(new RegExp(`^[0-9a-f]{${FINGERPRINT_HEX_DIGITS}}$`)),
  v.transform((text) => text as Fingerprint),
);

const RecentRoomSchema = v.object({
  address: v.string(),
  roomName: v.string(),
  code: v.string(),
  name: v.string(),
  lastJoined: v.number(),
  /** This user's identity in that room, so rejoining keeps the same member and direct messages. */
  token: v.optional(v.string()),
  /**
   * The host's fingerprint as first trusted (pinned). A damaged one is dropped alone, keeping the
   * room and its identity: the next join then trusts on first use again, as for a room never pinned.
   */
  fingerprint: v.fallback(v.optional(FingerprintSchema), undefined),
});
export type StoredRecentRoom = v.InferOutput<typeof RecentRoomSchema>;

/**
 * Whether `path` can take downloads: an absolute path to a folder that exists now. A relative
 * path would depend on where Beacon was started from; a folder on a drive since unplugged is gone.
 */
export function isUsableFolder(path: string): boolean {
  if (!isAbsolute(path)) return false;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Where a download goes: the folder chosen in Settings while it is still there, else the system's Downloads. */
export function downloadsFolder(chosen: string | undefined, systemDownloads: string): string {
  return chosen !== undefined && isUsableFolder(chosen) ? chosen : systemDownloads;
}

/**
 * Each setting falls back to its default on its own, and a damaged recent
 * room is dropped alone: one bad value must not cost the others (the recent
 * rooms hold this user's identities in those rooms).
 */
const SettingsSchema = v.object({
  displayName: v.fallback(v.optional(v.string(), ''), ''),
  notifyDirect: v.fallback(v.optional(v.boolean(), true), true),
  notifyMentions: v.fallback(v.optional(v.boolean(), true), true),
  recentRooms: v.fallback(
    v.pipe(
      v.optional(v.array(v.unknown()), []),
      // Parsed one by one (not just checked), so a damaged fingerprint falls back inside its room.
      v.transform((rooms) =>
        rooms.flatMap((room) => {
          const parsed = v.safeParse(RecentRoomSchema, room);
          return parsed.success ? [parsed.output] : [];
        }),
      ),
    ),
    [],
  ),
  /**
   * The fingerprint each host machine ("host:port") was trusted with, apart from the recent rooms:
   * a pin pushed out of the short recent list would turn the next join into trust on first use.
   * Damaged entries are dropped one by one; at most MAX_PINS, the oldest go first.
   */
  hostPins: v.fallback(
    v.pipe(
      v.optional(v.record(v.string(), v.unknown()), {}),
      v.transform(
        (pins) =>
          Object.fromEntries(
            Object.entries(pins).flatMap(([machine, fingerprint]) => {
              const parsed = v.safeParse(FingerprintSchema, fingerprint);
              return parsed.success && machine.length <= MAX_MACHINE_CHARS ? [[machine, parsed.output]] : [];
            }),
          ) as Record<string, Fingerprint>,
      ),
    ),
    {},
  ),
  /** The room hosted last (name, port, join code), so hosting it again gives guests the same code. */
  lastHosted: v.fallback(
    v.optional(
      v.object({
        roomName: v.pipe(v.string(), v.minLength(1)),
        port: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65_535)),
        code: v.string(),
      }),
    ),
    undefined,
  ),
  /**
   * Closing the window while hosting: keep the room in the tray, or stop hosting (and quit). Absent
   * until the person answers the first time's question (hosting-policy.ts).
   */
  closeWhileHosting: v.fallback(v.optional(v.picklist(['keep', 'stop'])), undefined),
  /** The colours: the system's choice, or always light or dark (Electron's nativeTheme and the page). */
  theme: v.fallback(v.optional(v.picklist(['system', 'light', 'dark']), 'system'), 'system'),
  /** Open Beacon when the user logs in (off by default, as an app that adds itself there unasked is unwelcome). */
  startAtLogin: v.fallback(v.optional(v.boolean(), false), false),
  /** With startAtLogin: host lastHosted again at login, the window in the tray. */
  hostAtLogin: v.fallback(v.optional(v.boolean(), false), false),
  /** Where downloads go; absent for the system's Downloads folder. One that has gone since is forgotten at start. */
  downloadsFolder: v.fallback(v.optional(v.pipe(v.string(), v.check(isUsableFolder))), undefined),
  windowBounds: v.fallback(
    v.optional(v.object({ x: v.number(), y: v.number(), width: v.number(), height: v.number() })),
    undefined,
  ),
});
export type Settings = v.InferOutput<typeof SettingsSchema>;

const MAX_RECENT = 8;

/**
 * Settings in one JSON file in the user data folder. A damaged or missing
 * file falls back to defaults rather than stopping the app (a damaged one is
 * kept as settings.json.damaged), and a wrong value costs only itself; writes go to a
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
      // First start: defaults. A damaged file is kept beside the new one, for the person or for support.
      if (existsSync(path)) keepDamagedCopy(path);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      keepDamagedCopy(path);
      raw = {};
    }
    try {
      chmodSync(path, 0o600);
    } catch {
      // No file yet; and any file is replaced by a 0600 one at the next write.
    }
    this.#settings = v.parse(SettingsSchema, raw);
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

  /** Adds or refreshes a room at the top of the recent list; its fingerprint is kept for its machine too. */
  rememberRoom(room: StoredRecentRoom): void {
    const others = this.#settings.recentRooms.filter((r) => !(r.address === room.address && r.name === room.name));
    this.update({
      recentRooms: [room, ...others].slice(0, MAX_RECENT),
      ...(room.fingerprint ? { hostPins: this.#withPin(room.address, room.fingerprint) } : {}),
    });
  }

  #withPin(address: string, fingerprint: Fingerprint): Record<string, Fingerprint> {
    const machine = machineOf(address);
    const pins = Object.entries(this.#settings.hostPins).filter(([known]) => known !== machine);
    // The newest last, so the oldest are the ones dropped past the bound.
    return Object.fromEntries([...pins.slice(-(MAX_PINS - 1)), [machine, fingerprint]]);
  }

  findRoom(address: string, name: string): StoredRecentRoom | undefined {
    return this.#settings.recentRooms.find((r) => r.address === address && r.name === name);
  }

  /**
   * The fingerprint pinned for the machine at `address`, from the latest visit that pinned one.
   * The machine, not the text: "10.0.0.5:4747", "https://10.0.0.5:4747/" and "wss://10.0.0.5:4747"
   * are one host, and a pin that a differently typed address escaped would be no pin at all.
   */
  pinFor(address: string): Fingerprint | undefined {
    const machine = machineOf(address);
    return (
      this.#settings.hostPins[machine] ??
      // Pins kept before hostPins existed live only in the recent rooms.
      this.#settings.recentRooms.find((r) => r.fingerprint && machineOf(r.address) === machine)?.fingerprint
    );
  }

  /** The person checked the host's new fingerprint: every recent room on that machine expects it from now on. */
  trustHost(address: string, fingerprint: Fingerprint): void {
    const machine = machineOf(address);
    const known = this.#settings.recentRooms.some((r) => machineOf(r.address) === machine);
    if (!known && !this.#settings.hostPins[machine]) return;
    this.update({
      recentRooms: this.#settings.recentRooms.map((r) =>
        machineOf(r.address) === machine ? { ...r, fingerprint } : r,
      ),
      hostPins: this.#withPin(address, fingerprint),
    });
  }

  /** The recent rooms as the interface sees them: without resume tokens. */
  recentRooms(): RecentRoom[] {
    return this.#settings.recentRooms.map(({ address, roomName, code, name, lastJoined, fingerprint }) => ({
      address,
      roomName,
      code,
      name,
      lastJoined,
      ...(fingerprint ? { fingerprint } : {}),
    }));
  }
}

/** "host:port" of a room address however it was written; the text itself when it is not one. */
export function machineOf(address: string): string {
  const parsed = parseRoomAddress(address);
  return parsed.ok ? new URL(parsed.url).host : address;
}

function keepDamagedCopy(path: string): void {
  try {
    copyFileSync(path, `${path}.damaged`);
    chmodSync(`${path}.damaged`, 0o600);
  } catch {
    // Unreadable too: nothing to keep.
  }
}
