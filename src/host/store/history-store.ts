import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { BeaconError } from '../../shared/errors.ts';
import type { ChatMessage, FileRef } from '../../shared/protocol.ts';
import { MIGRATIONS } from './migrations.ts';

export interface StoredMember {
  id: string;
  name: string;
  token: string;
  joinedAt: number;
}

export interface NewMessage {
  sender: string;
  recipient: string | null;
  text: string;
  ts: number;
  clientId: string;
  /** The host's records of the files the message carries (protocol v1.4). */
  files?: FileRef[];
}

/** A finished file's record: everything here the host measured or decided itself, but `declaredType`. */
export interface StoredFile {
  id: string;
  uploader: string;
  /** 'room', or the member id of the other person of a direct conversation. */
  conversation: string;
  /** Sanitised. */
  name: string;
  size: number;
  /** The sender's label; never used to serve. */
  declaredType: string;
  /** A safe image type the host recognised from the bytes, else null (served as octet-stream). */
  mediaType: string | null;
  sha256: string;
  width: number | null;
  height: number | null;
  previewId: string | null;
  createdAt: number;
}

export interface AppendResult {
  message: ChatMessage;
  /** True when this (sender, clientId) was stored before: a resend, not a new message. */
  duplicate: boolean;
}

/** Which messages a page holds: the room, one direct conversation, or all the viewer may see. */
export type Conversation = 'room' | { with: string } | 'all';

interface MessageRow {
  seq: number;
  sender: string;
  recipient: string | null;
  text: string;
  ts: number;
  client_id: string;
  files: string | null;
}

const toMessage = (row: MessageRow): ChatMessage => ({
  seq: row.seq,
  from: row.sender,
  to: row.recipient,
  text: row.text,
  ts: row.ts,
  clientId: row.client_id,
  // Written by this host from its own records (append), so read back as they were written.
  ...(row.files === null ? {} : { files: JSON.parse(row.files) as FileRef[] }),
});

/** What a stored file takes of the disk at least, however small: one file system block. */
export const FILE_BLOCK_BYTES = 4096;

interface FileRow {
  id: string;
  uploader: string;
  conversation: string;
  name: string;
  size: number;
  declared_type: string;
  media_type: string | null;
  sha256: string;
  width: number | null;
  height: number | null;
  preview_id: string | null;
  created_at: number;
}

const toStoredFile = (row: FileRow): StoredFile => ({
  id: row.id,
  uploader: row.uploader,
  conversation: row.conversation,
  name: row.name,
  size: row.size,
  declaredType: row.declared_type,
  mediaType: row.media_type,
  sha256: row.sha256,
  width: row.width,
  height: row.height,
  previewId: row.preview_id,
  createdAt: row.created_at,
});

const COLUMNS = 'seq, sender, recipient, text, ts, client_id, files';
const FILE_COLUMNS =
  'id, uploader, conversation, name, size, declared_type, media_type, sha256, width, height, preview_id, created_at';
/** Names of people in pages kept in memory at most (about 1 MB); past it the cache starts again. */
const NAME_CACHE_SIZE = 10_000;

/**
 * What a message costs in a page beyond its text's UTF-8 bytes: the other
 * fields as JSON (`{"seq":…,"from":"m_…","to":…,"ts":…,"clientId":"…"}`).
 * An estimate: JSON escaping can make a text with control characters longer
 * on the wire than its UTF-8 bytes, but never past the 64 KiB frame it arrived in.
 */
const MESSAGE_OVERHEAD_BYTES = 100;
const FILTERS = {
  all: '(recipient IS NULL OR recipient = :me OR sender = :me)',
  room: 'recipient IS NULL',
  direct: '((sender = :me AND recipient = :other) OR (sender = :other AND recipient = :me))',
} as const;

/**
 * The room's history in one SQLite file (WAL). All SQL lives here.
 *
 * Durability: WAL with synchronous=NORMAL. A commit is in the WAL file (the
 * operating system's page cache) before `append` returns, so a killed host
 * process loses nothing that was acknowledged; only a power cut or kernel
 * crash can lose the last few commits. That trade buys an order of magnitude
 * in throughput over synchronous=FULL (see docs/PERFORMANCE.md).
 *
 * Checkpoints (copying the WAL back into the database) run in a worker thread
 * with its own connection: done on the host's thread they stalled every
 * delivery for 4-17 ms each time the WAL filled.
 */
export class HistoryStore {
  readonly path: string;
  readonly hasFts5: boolean;
  readonly #db: DatabaseSync;
  #lastSeq: number;
  readonly #insert: StatementSync;
  readonly #bySenderClientId: StatementSync;
  readonly #pages = new Map<string, StatementSync>();
  readonly #touch: StatementSync;
  readonly #prune: StatementSync;
  readonly #recent: StatementSync;
  readonly #namesOf: StatementSync;
  readonly #insertFile: StatementSync;
  readonly #fileById: StatementSync;
  readonly #fileBySha: StatementSync;
  readonly #uploaderHasContent: StatementSync;
  /** storedFileBytes(), summed once at open and kept up to date by insertFile (no scan per creation). */
  #storedFileBytes: number;
  readonly #memberById: StatementSync;
  /** Names by member id, as stored: a welcome names its page's people without a query once they are known. */
  readonly #nameCache = new Map<string, string>();
  #checkpointer: Worker | null = null;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.hasFts5 = HistoryStore.#probeFts5(db);
    this.#insert = db.prepare(
      `INSERT INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender, client_id) DO NOTHING`,
    );
    this.#bySenderClientId = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE sender = ? AND client_id = ?`);
    this.#touch = db.prepare('UPDATE members SET last_seen = ? WHERE id = ?');
    // members_last_seen narrows this to the stale members; each one's two NOT
    // EXISTS probes are index lookups (sender: the (sender, client_id) unique
    // index; recipient: messages_direct), never a scan of the messages.
    this.#prune = db.prepare(
      `DELETE FROM members WHERE last_seen < ?
         AND NOT EXISTS (SELECT 1 FROM messages WHERE sender = members.id)
         AND NOT EXISTS (SELECT 1 FROM messages WHERE recipient = members.id)`,
    );
    this.#recent = db.prepare('SELECT id, name FROM members WHERE last_seen >= ? ORDER BY last_seen');
    // One lookup per page, by primary key: the ids travel as one JSON array.
    this.#namesOf = db.prepare('SELECT id, name FROM members WHERE id IN (SELECT value FROM json_each(?))');
    // A file is recorded once, when it is finished: finishing again after a crash changes nothing.
    this.#insertFile = db.prepare(
      `INSERT INTO files (${FILE_COLUMNS}, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#fileById = db.prepare(`SELECT ${FILE_COLUMNS} FROM files WHERE id = ? AND finished = 1`);
    this.#fileBySha = db.prepare('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1');
    this.#uploaderHasContent = db.prepare('SELECT 1 FROM files WHERE sha256 = ? AND uploader = ? LIMIT 1');
    this.#storedFileBytes = (
      db
        .prepare(
          `SELECT COALESCE(SUM(max(size, ${FILE_BLOCK_BYTES})), 0) AS bytes
             FROM (SELECT max(size) AS size FROM files GROUP BY uploader, sha256)`,
        )
        .get() as { bytes: number }
    ).bytes;
    this.#memberById = db.prepare('SELECT 1 FROM members WHERE id = ?');
    const row = db.prepare('SELECT max(seq) AS last FROM messages').get() as { last: number | null };
    this.#lastSeq = row.last ?? 0;
  }

  /** Opens (creating if needed) the history in `dataDir/beacon.db`, or in memory for ':memory:'. */
  static open(dataDir: string): HistoryStore {
    const path = dataDir === ':memory:' ? dataDir : join(dataDir, 'beacon.db');
    let db: DatabaseSync;
    try {
      if (dataDir !== ':memory:') makePrivate(dataDir, path);
      db = new DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000;');
      HistoryStore.#migrate(db);
    } catch (error) {
      throw new BeaconError('BEACON_ERR_STORE', `${path}: ${(error as Error).message}`);
    }
    const store = new HistoryStore(path, db);
    if (path !== ':memory:') {
      db.exec('PRAGMA wal_autocheckpoint = 0');
      store.#checkpointer = startCheckpointer(path);
    }
    return store;
  }

  /**
   * The room name stored in `dataDir`'s history, read without changing
   * anything there; undefined when there is no readable history.
   */
  static storedRoomName(dataDir: string): string | undefined {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(join(dataDir, 'beacon.db'), { readOnly: true });
      const row = db.prepare("SELECT value FROM room WHERE key = 'name'").get() as { value: string } | undefined;
      return row?.value;
    } catch {
      return undefined;
    } finally {
      db?.close();
    }
  }

  static #migrate(db: DatabaseSync): void {
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    // Writing into a schema this build does not know could damage what a newer Beacon stored.
    if (version > MIGRATIONS.length) {
      throw new Error(`written by a newer Beacon (schema ${version}; this one knows ${MIGRATIONS.length})`);
    }
    for (let next = version; next < MIGRATIONS.length; next++) {
      db.exec('BEGIN');
      try {
        db.exec(MIGRATIONS[next]!);
        db.exec(`PRAGMA user_version = ${next + 1}`);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }
  }

  static #probeFts5(db: DatabaseSync): boolean {
    try {
      db.exec('CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x); DROP TABLE temp.fts5_probe;');
      return true;
    } catch {
      return false;
    }
  }

  get schemaVersion(): number {
    return (this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Stores a message under the next sequence number, or returns the stored one for a resend. */
  append(message: NewMessage): AppendResult {
    const seq = this.#lastSeq + 1;
    const { changes } = this.#insert.run(
      seq,
      message.sender,
      message.recipient,
      message.text,
      message.ts,
      message.clientId,
      message.files && message.files.length > 0 ? JSON.stringify(message.files) : null,
    );
    if (changes === 0) {
      const row = this.#bySenderClientId.get(message.sender, message.clientId) as unknown as MessageRow;
      return { message: toMessage(row), duplicate: true };
    }
    this.#lastSeq = seq;
    return {
      message: {
        seq,
        from: message.sender,
        to: message.recipient,
        text: message.text,
        ts: message.ts,
        clientId: message.clientId,
        ...(message.files && message.files.length > 0 ? { files: message.files } : {}),
      },
      duplicate: false,
    };
  }

  /** The message `sender` stored under `clientId`, if any (to recognise a resend). */
  findSent(sender: string, clientId: string): ChatMessage | undefined {
    const row = this.#bySenderClientId.get(sender, clientId) as MessageRow | undefined;
    return row && toMessage(row);
  }

  /**
   * A page of what `viewer` may see, oldest first. `before` pages backwards
   * from the newest (a fresh join, "load older"); `after` pages forwards (resume).
   * Returns one extra probe row's worth of knowledge as `hasMore`.
   *
   * `maxBytes` bounds the page as well as `limit`: it ends before the message
   * that would take it past the budget (counted from the `range` bound, so the
   * messages nearest it are kept), yet always holds one if any matches, and
   * then says `hasMore` so the client asks for the rest.
   */
  page(
    viewer: string,
    conversation: Conversation,
    range: { before?: number; after?: number },
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): { messages: ChatMessage[]; hasMore: boolean } {
    const forward = range.after !== undefined;
    const filter = conversation === 'all' ? FILTERS.all : conversation === 'room' ? FILTERS.room : FILTERS.direct;
    const key = `${filter}|${forward}`;
    let statement = this.#pages.get(key);
    if (!statement) {
      const bound = forward ? 'seq > :bound' : 'seq < :bound';
      statement = this.#db.prepare(
        `SELECT ${COLUMNS} FROM messages WHERE ${bound} AND ${filter} ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT :limit`,
      );
      statement.setAllowUnknownNamedParameters(true);
      this.#pages.set(key, statement);
    }
    const bound = forward ? range.after! : (range.before ?? Number.MAX_SAFE_INTEGER);
    const other = typeof conversation === 'object' ? conversation.with : null;
    // Rows are read one at a time and reading stops at the budget: reading `limit` rows of 45 KB
    // messages only to drop most of them cost a hostile resume 45 MB of reads per welcome.
    const rows: MessageRow[] = [];
    let bytes = 0;
    let hasMore = false;
    for (const row of statement.iterate({ bound, me: viewer, other, limit: limit + 1 }) as Iterable<MessageRow>) {
      bytes += Buffer.byteLength(row.text) + MESSAGE_OVERHEAD_BYTES + (row.files?.length ?? 0);
      if (rows.length === limit || (rows.length > 0 && bytes > maxBytes)) {
        hasMore = true;
        break;
      }
      rows.push(row);
    }
    if (!forward) rows.reverse();
    return { messages: rows.map(toMessage), hasMore };
  }

  /**
   * The names of everyone `messages` mentions (senders and direct
   * recipients), by id, as stored: so a page keeps who wrote it after they
   * left. Ids with no stored identity are left out.
   */
  namesFor(messages: readonly ChatMessage[]): Record<string, string> {
    const ids = new Set<string>();
    for (const message of messages) {
      ids.add(message.from);
      if (message.to !== null) ids.add(message.to);
    }
    const names: Record<string, string> = {};
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.#nameCache.get(id);
      if (cached === undefined) missing.push(id);
      else names[id] = cached;
    }
    if (missing.length === 0) return names;
    // Bounded like the page it serves: the cache starts again rather than grow past what a room holds.
    if (this.#nameCache.size + missing.length > NAME_CACHE_SIZE) this.#nameCache.clear();
    for (const row of this.#namesOf.iterate(JSON.stringify(missing)) as Iterable<{ id: string; name: string }>) {
      names[row.id] = row.name;
      this.#nameCache.set(row.id, row.name);
    }
    return names;
  }

  findMemberByToken(token: string): StoredMember | undefined {
    const row = this.#db.prepare('SELECT id, name, token, joined_at FROM members WHERE token = ?').get(token) as
      { id: string; name: string; token: string; joined_at: number } | undefined;
    return row && { id: row.id, name: row.name, token: row.token, joinedAt: row.joined_at };
  }

  saveMember(member: StoredMember): void {
    this.#db
      .prepare(
        `INSERT INTO members (id, name, token, joined_at, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
      )
      .run(member.id, member.name, member.token, member.joinedAt, member.joinedAt);
    this.#nameCache.set(member.id, member.name);
  }

  /** Records that member `id` was here at `now` (the host calls it on join and on leave). */
  touchMember(id: string, now: number): void {
    this.#touch.run(now, id);
  }

  /**
   * Forgets identities not seen since `now - unseenSinceMs` that no message
   * names as sender or recipient: history does not need their names, and
   * their resume tokens are only something to steal. Returns how many went.
   */
  pruneIdentities(unseenSinceMs: number, now: number): number {
    const pruned = Number(this.#prune.run(now - unseenSinceMs).changes);
    // Pruned identities wrote nothing, so no page names them; the cache forgets them all the same.
    if (pruned > 0) this.#nameCache.clear();
    return pruned;
  }

  /** Members seen at or after `since`, longest ago first (to reserve their names at start-up). */
  recentIdentities(since: number): { id: string; name: string }[] {
    return (this.#recent.all(since) as { id: string; name: string }[]).map(({ id, name }) => ({ id, name }));
  }

  /** Whether the store still knows identity `id` (a file token speaks for a known identity only). */
  hasMember(id: string): boolean {
    return this.#memberById.get(id) !== undefined;
  }

  /** Records a finished file; a second record of the same id (finishing again after a crash) is ignored. */
  insertFile(file: StoredFile): void {
    // Identical bytes hold the same length: a member's second copy adds nothing to the quota.
    const counted = this.#uploaderHasContent.get(file.sha256, file.uploader) !== undefined;
    const { changes } = this.#insertFile.run(
      file.id,
      file.uploader,
      file.conversation,
      file.name,
      file.size,
      file.declaredType,
      file.mediaType,
      file.sha256,
      file.width,
      file.height,
      file.previewId,
      file.createdAt,
    );
    if (changes > 0 && !counted) this.#storedFileBytes += Math.max(file.size, FILE_BLOCK_BYTES);
  }

  /** A finished file by id. */
  findFile(id: string): StoredFile | undefined {
    const row = this.#fileById.get(id) as FileRow | undefined;
    return row && toStoredFile(row);
  }

  /** Whether any file record holds content `sha256` (a blob nobody records is a leftover of a crash). */
  hasContent(sha256: string): boolean {
    return this.#fileBySha.get(sha256) !== undefined;
  }

  /**
   * Bytes the room's stored files count against its quota: a member's identical files count once.
   * Not once for the whole room, although the disk holds them once: a quota that did not move when
   * a member uploaded some bytes would tell them that someone else (in a conversation they cannot
   * read) holds the very same bytes. Each counts at least FILE_BLOCK_BYTES, as the disk sees it.
   */
  storedFileBytes(): number {
    return this.#storedFileBytes;
  }

  getSetting(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM room WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string): void {
    this.#db
      .prepare('INSERT INTO room (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  close(): void {
    void this.#checkpointer?.terminate();
    this.#checkpointer = null;
    if (!this.#db.isOpen) return;
    // Leave a compact database behind: fold the WAL in and truncate it.
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // Busy: the next open replays the WAL; nothing is lost.
    }
    this.#db.close();
  }
}

/**
 * The history holds every member's resume token, so only this user may read
 * it. The database file exists with 0600 before SQLite writes to it, and
 * SQLite creates -wal and -shm with the main file's permissions; files an
 * older version left readable (0644, 0755) are tightened here. On Windows
 * chmod changes little and harms nothing: the profile's ACL guards the files.
 */
function makePrivate(dataDir: string, path: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

const CHECKPOINT_INTERVAL_MS = 1_000;

/** A worker thread that folds the WAL into the database every second, off the host's thread. */
function startCheckpointer(path: string): Worker {
  const source = `
    const { workerData } = require('node:worker_threads');
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(workerData.path);
    db.exec('PRAGMA busy_timeout = 100');
    setInterval(() => {
      try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
    }, workerData.intervalMs);
  `;
  const worker = new Worker(source, { eval: true, workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  worker.on('error', () => {
    // Without checkpoints the WAL only grows until the next restart; the history itself is safe.
  });
  return worker;
}
