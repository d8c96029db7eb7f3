/**
 * Where the desktop app keeps a hosted room's history: one folder per exact
 * room name. Older versions named the folder by a lossy slug, so "Team room"
 * and "TEAM-ROOM!" shared one, and every non-Latin name became "room"; a room
 * hosted after another then showed its members the other room's messages.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { BeaconError } from '../shared/errors.ts';
import { HistoryStore } from './store/history-store.ts';

const SLUG_MAX_CHARS = 32;

/** Readable part of the folder name: letters and digits of any script, lower-cased. */
function slug(name: string): string {
  const words = name.toLowerCase().replace(/[^\p{L}\p{M}\p{N}]+/gu, '-');
  // Cut by code points so a character outside the BMP is never split in half.
  const short = Array.from(words.replace(/^-+/, '')).slice(0, SLUG_MAX_CHARS).join('');
  return short.replace(/-+$/, '') || 'room';
}

/** The folder name older versions used. */
function oldFolderName(roomName: string): string {
  return (
    roomName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'room'
  );
}

/**
 * The history folder for `roomName` under `roomsDir`, e.g.
 * "team-room-1a2b3c4d5e6f": a slug to recognise it by, and the start of the
 * SHA-256 of the name (NFC) so that names differing in case, punctuation or
 * script never share one.
 *
 * A room hosted by an older version gets its history back: its folder is
 * moved here when the history in it was last hosted under this very name.
 * An old folder holding another room's history is never touched.
 */
export function roomFolder(roomsDir: string, roomName: string): string {
  const name = roomName.normalize('NFC');
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  const folder = join(roomsDir, `${slug(name)}-${hash}`);
  try {
    mkdirSync(roomsDir, { recursive: true, mode: 0o700 });
    if (!existsSync(folder)) {
      const old = join(roomsDir, oldFolderName(roomName));
      if (old !== folder && HistoryStore.storedRoomName(old)?.normalize('NFC') === name) renameSync(old, folder);
    }
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
  } catch (error) {
    throw new BeaconError('BEACON_ERR_STORE', `${folder}: ${(error as Error).message}`);
  }
  return folder;
}
