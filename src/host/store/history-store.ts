import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { BeaconError } from '../../shared/errors.ts';
import {
  DEFAULT_CHANNEL,
  WIRE_LIMITS,
  type Channel,
  type ChatMessage,
  type FileRef,
  type Reaction,
  type ReplyQuote,
  type SearchHit,
  type Update,
} from '../../shared/protocol.ts';
import { keysOf } from '../name-registry.ts';
import { MIGRATIONS } from './migrations.ts';
import { ensureSearchIndex, INDEXED_KEY, PREFIX_INDEX_CHARS } from './search-index.ts';
import { foldWord, ftsExpression, highlightRanges, indexedTerms, searchWords, startOf } from './search-words.ts';

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
  /** v1.5: a channel id of the room; absent, null or 'room' for the default channel (and for direct messages). */
  channel?: string | null;
  /** v1.5: the seq of the message this one answers (the caller checked it is in the same conversation). */
  replyTo?: number;
  /** v1.5: member ids the text mentions (the caller kept only members, without repeats). */
  mentions?: string[];
}

export interface StoreOptions {
  /** Keep what a message said before each edit, in this database only (never sent). Default false. */
  keepEditHistory?: boolean;
}

/** Different emoji one message holds at most (PROTOCOL.md §19.5). */
export const MAX_EMOJI_PER_MESSAGE = 20;

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

/**
 * Which messages a page holds: the default channel ('room'), a channel (v1.5; `{ channel: 'room' }`
 * is the default one), one direct conversation, or all the viewer may see.
 */
export type Conversation = 'room' | { channel: string } | { with: string } | 'all';

export interface PageOptions {
  /**
   * The viewer understands channels (hello.features has 'channels'). Without it, 'all' holds only
   * the default channel and the viewer's direct messages, as from a v1.4 host. Default false.
   */
  channels?: boolean;
}

export interface HistoryPage {
  /** Oldest first, each as it stands now (edited text, deleted, reactions, reply quote). */
  messages: ChatMessage[];
  /**
   * Only for a page `after` (catching up): the updates in the same span of seqs the viewer may see,
   * oldest first. Messages and updates together are cut at the limit and the byte budget at one seq,
   * so a client that goes on after the highest seq of either kind misses nothing and gets nothing twice.
   */
  updates: Update[];
  /** More messages or updates exist past the page. */
  hasMore: boolean;
}

export interface SearchQuery {
  viewer: string;
  /** The viewer understands channels: without it only the default channel and its own DMs are searched. */
  channels: boolean;
  /** As the member typed it: words (see search-words.ts). */
  query: string;
  /** Only this conversation ('all' or absent: everything the viewer may see). */
  conversation?: Conversation;
  /** Only messages by this member. */
  from?: string;
  /** since <= ts < until (epoch ms). */
  since?: number;
  until?: number;
  /** Only hits older than this seq (paging). */
  before?: number;
  /** Hits at most. */
  limit: number;
}

/** Messages appended before they are indexed together (search and close index the rest first). */
const SEARCH_BATCH = 64;
/** Terms the store remembers having put in messages_fts_terms (a few MB), so most appends write none. */
const KNOWN_TERMS = 200_000;
/** A longer last word beginning more indexed terms than this is left to FTS5's own prefix search. */
const MAX_PREFIX_TERMS = 64;

/** Matches of a search's words one request reads at most, newest first, before its filters (about 30 ms). */
const SEARCH_SCAN = 10_000;

/** Messages of the same conversation a search hit carries before and after it. */
const SEARCH_CONTEXT = 2;

interface MessageRow {
  seq: number;
  sender: string;
  recipient: string | null;
  text: string;
  ts: number;
  client_id: string;
  files: string | null;
  channel: string | null;
  reply_to: number | null;
  mentions: string | null;
  edited_at: number | null;
  deleted: number;
  /** Only in pages (PAGE_COLUMNS). */
  reaction_count?: number;
}

/** A message as its row holds it; reactions and the reply's quote are added by #hydrate. */
const toMessage = (row: MessageRow): ChatMessage => ({
  seq: row.seq,
  from: row.sender,
  to: row.recipient,
  text: row.text,
  ts: row.ts,
  clientId: row.client_id,
  // Written by this host from its own records (append), so read back as they were written.
  ...(row.files === null ? {} : { files: JSON.parse(row.files) as FileRef[] }),
  ...(row.channel === null ? {} : { channel: row.channel }),
  ...(row.mentions === null ? {} : { mentions: JSON.parse(row.mentions) as string[] }),
  ...(row.edited_at === null ? {} : { editedAt: row.edited_at }),
  ...(row.deleted ? { deleted: true as const } : {}),
});

interface ChannelRow {
  id: string;
  name: string;
  topic: string;
  created_by: string | null;
  created_at: number;
  archived: number;
}

const toChannel = (row: ChannelRow): Channel => ({
  id: row.id,
  name: row.name,
  topic: row.topic,
  createdBy: row.created_by,
  createdAt: row.created_at,
  archived: row.archived !== 0,
});

interface UpdateRow {
  seq: number;
  payload: string;
}

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

const COLUMNS = 'seq, sender, recipient, text, ts, client_id, files, channel, reply_to, mentions, edited_at, deleted';
/**
 * A page's rows also count their reactions, for the page's byte budget: counted inside the query, one
 * statement per page, since a count per row from JavaScript made a resume page of 1,000 cost 7× more.
 */
const PAGE_COLUMNS = `${COLUMNS}, (SELECT count(*) FROM reactions WHERE reactions.message_seq = messages.seq) AS reaction_count`;
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
/** A reply's quote at most: 200 UTF-16 units of up to 3 UTF-8 bytes, its seq, author and flags. */
const QUOTE_BYTES = 700;

/** What a message row costs in a page, estimated before it is read whole (reactions are not counted). */
const messageBytes = (row: MessageRow): number =>
  Buffer.byteLength(row.text) +
  MESSAGE_OVERHEAD_BYTES +
  (row.files?.length ?? 0) +
  (row.mentions?.length ?? 0) +
  (row.reply_to === null ? 0 : QUOTE_BYTES);

/**
 * What one member's choice of one emoji adds to a message in a page: the id in `by`, quoted, and
 * a share of the emoji. Counted before the rows are read whole: 60 members choosing the 20 emoji on
 * each of 100 messages made every welcome read and build 120,000 reactions (a second of the host's).
 */
const REACTION_BYTES = 24;
/** An update's JSON is stored as sent; this covers the frame around it. */
const UPDATE_OVERHEAD_BYTES = 20;
/**
 * Which rows a viewer may see, for messages and updates alike (both carry sender, recipient and
 * channel): the room's channels, and direct messages only of a pair the viewer is one of.
 */
const FILTERS = {
  all: '(recipient IS NULL OR recipient = :me OR sender = :me)',
  /** 'all' for a client that knows no channels: the default channel and its own DMs. */
  allDefault:
    '((recipient IS NULL AND channel IS NULL) OR recipient = :me OR (recipient IS NOT NULL AND sender = :me))',
  room: '(recipient IS NULL AND channel IS NULL)',
  channel: '(channel = :channel AND recipient IS NULL)',
  direct: '((sender = :me AND recipient = :other) OR (sender = :other AND recipient = :me))',
} as const;

/** The filter for `conversation`, and the channel or member it names. */
function filterOf(
  conversation: Conversation,
  channels: boolean,
): { filter: string; other: string | null; channel: string | null } {
  if (conversation === 'all')
    return { filter: channels ? FILTERS.all : FILTERS.allDefault, other: null, channel: null };
  if (conversation === 'room') return { filter: FILTERS.room, other: null, channel: null };
  if ('with' in conversation) return { filter: FILTERS.direct, other: conversation.with, channel: null };
  if (conversation.channel === DEFAULT_CHANNEL) return { filter: FILTERS.room, other: null, channel: null };
  return { filter: FILTERS.channel, other: null, channel: conversation.channel };
}

/**
 * Messages matching `filter` (and `extra`) on one side of :bound, nearest first, :limit at most.
 * A direct conversation is read as its two directions, each a range of messages_direct, merged:
 * one OR over both made SQLite read every message of the pair and sort them for each page.
 */
function messagesSql(filter: string, extra: string, forward: boolean, limit: string): string {
  const order = forward ? 'seq > :bound ORDER BY seq ASC' : 'seq < :bound ORDER BY seq DESC';
  if (filter !== FILTERS.direct)
    return `SELECT ${PAGE_COLUMNS} FROM messages WHERE ${filter}${extra} AND ${order} LIMIT ${limit}`;
  const direction = (from: string, to: string) =>
    `SELECT * FROM (SELECT ${PAGE_COLUMNS} FROM messages WHERE recipient = ${to} AND sender = ${from}${extra} AND ${order} LIMIT ${limit})`;
  // UNION, not UNION ALL: a member's notes to themselves are both directions at once.
  return `${direction(':me', ':other')} UNION ${direction(':other', ':me')} ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT ${limit}`;
}

const storedChannel = (channel: string | null | undefined): string | null =>
  channel === undefined || channel === null || channel === DEFAULT_CHANNEL ? null : channel;

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
  readonly #keepEditHistory: boolean;
  readonly #statements = new Map<string, StatementSync>();
  /** Terms known to be in messages_fts_terms (see KNOWN_TERMS). */
  readonly #knownTerms = new Set<string>();
  /** The highest seq whose message the search index holds (INDEXED_KEY). */
  #indexedThrough = 0;

  private constructor(path: string, db: DatabaseSync, hasFts5: boolean, options: StoreOptions) {
    this.path = path;
    this.#db = db;
    this.hasFts5 = hasFts5;
    this.#keepEditHistory = options.keepEditHistory ?? false;
    this.#insert = db.prepare(
      `INSERT INTO messages (seq, sender, recipient, text, ts, client_id, files, channel, reply_to, mentions)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender, client_id) DO NOTHING`,
    );
    this.#bySenderClientId = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE sender = ? AND client_id = ?`);
    this.#touch = db.prepare('UPDATE members SET last_seen = ? WHERE id = ?');
    // members_last_seen narrows this to the stale members; each one's NOT
    // EXISTS probes are index lookups (sender: the (sender, client_id) unique
    // index; recipient: messages_direct; reactions_member), never a scan.
    // Someone who only reacted is still named on the messages they reacted to.
    this.#prune = db.prepare(
      `DELETE FROM members WHERE last_seen < ?
         AND NOT EXISTS (SELECT 1 FROM messages WHERE sender = members.id)
         AND NOT EXISTS (SELECT 1 FROM messages WHERE recipient = members.id)
         AND NOT EXISTS (SELECT 1 FROM reactions WHERE member = members.id)`,
    );
    this.#recent = db.prepare('SELECT id, name FROM members WHERE last_seen >= ? ORDER BY last_seen');
    // One lookup per page, by primary key: the ids travel as one JSON array.
    this.#namesOf = db.prepare('SELECT id, name FROM members WHERE id IN (SELECT value FROM json_each(?))');
    // A file is recorded once, when it is finished: finishing again after a crash changes nothing.
    this.#insertFile = db.prepare(
      `INSERT INTO files (${FILE_COLUMNS}, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO NOTHING`,
    );
    // A file of a deleted message (that no other message still carries) is withdrawn: never served again.
    this.#fileById = db.prepare(`SELECT ${FILE_COLUMNS} FROM files WHERE id = ? AND finished = 1 AND withdrawn = 0`);
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
    // Messages and updates share one sequence: the next seq follows the highest of either.
    const row = db
      .prepare(
        `SELECT max(COALESCE((SELECT max(seq) FROM messages), 0), COALESCE((SELECT max(seq) FROM updates), 0)) AS last`,
      )
      .get() as { last: number | null };
    this.#lastSeq = row.last ?? 0;
    if (hasFts5) {
      const indexed = db.prepare('SELECT value FROM room WHERE key = ?').get(INDEXED_KEY) as
        { value: string } | undefined;
      this.#indexedThrough = Number(indexed?.value ?? 0);
      // What a crash left unindexed (at most a batch) goes in with the next batch or search.
    }
  }

  /** A statement prepared once per distinct SQL text (pages and searches vary by filter). */
  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      statement.setAllowUnknownNamedParameters(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Opens (creating if needed) the history in `dataDir/beacon.db`, or in memory for ':memory:'. */
  static open(dataDir: string, options: StoreOptions = {}): HistoryStore {
    const path = dataDir === ':memory:' ? dataDir : join(dataDir, 'beacon.db');
    let db: DatabaseSync;
    let hasFts5: boolean;
    try {
      if (dataDir !== ':memory:') makePrivate(dataDir, path);
      db = new DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000;');
      HistoryStore.#migrate(db);
      hasFts5 = HistoryStore.#probeFts5(db);
      ensureSearchIndex(db, hasFts5);
    } catch (error) {
      throw new BeaconError('BEACON_ERR_STORE', `${path}: ${(error as Error).message}`);
    }
    const store = new HistoryStore(path, db, hasFts5, options);
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

  /**
   * Stores a message under the next sequence number, or returns the stored one (as it stands now)
   * for a resend. A reply's quote is read from the original as it stands at this moment.
   */
  append(message: NewMessage): AppendResult {
    const seq = this.#lastSeq + 1;
    const files = message.files && message.files.length > 0 ? message.files : undefined;
    const channel = message.recipient === null ? storedChannel(message.channel) : null;
    const mentions = message.mentions && message.mentions.length > 0 ? message.mentions : undefined;
    const insert = (): number =>
      Number(
        this.#insert.run(
          seq,
          message.sender,
          message.recipient,
          message.text,
          message.ts,
          message.clientId,
          files ? JSON.stringify(files) : null,
          channel,
          message.replyTo ?? null,
          mentions ? JSON.stringify(mentions) : null,
        ).changes,
      );
    // A message with files is two writes (the message, what it carries): one transaction.
    const changes = files
      ? this.#transaction(() => {
          const inserted = insert();
          if (inserted > 0) this.#recordFiles(seq, files);
          return inserted;
        })
      : insert();
    if (changes === 0) {
      const row = this.#bySenderClientId.get(message.sender, message.clientId) as unknown as MessageRow;
      return { message: this.#hydrate([row])[0]!, duplicate: true };
    }
    this.#lastSeq = seq;
    if (this.hasFts5 && seq - this.#indexedThrough >= SEARCH_BATCH) this.#indexPending();
    const stored: ChatMessage = {
      seq,
      from: message.sender,
      to: message.recipient,
      text: message.text,
      ts: message.ts,
      clientId: message.clientId,
      ...(files ? { files } : {}),
      ...(channel === null ? {} : { channel }),
      ...(mentions ? { mentions } : {}),
    };
    if (message.replyTo !== undefined) {
      const quote = this.#quotes([message.replyTo]).get(message.replyTo);
      if (quote) stored.replyTo = quote;
    }
    return { message: stored, duplicate: false };
  }

  #recordFiles(seq: number, files: readonly FileRef[]): void {
    const record = this.#statement('INSERT OR IGNORE INTO message_files (file_id, message_seq) VALUES (?, ?)');
    for (const file of files) {
      record.run(file.id, seq);
      if (file.preview) record.run(file.preview.id, seq);
    }
  }

  /**
   * Indexes the messages appended since the last batch (see search-index.ts), with the words they
   * bring to messages_fts_terms, in one transaction: one FTS5 segment for the lot.
   */
  #indexPending(): void {
    if (!this.hasFts5 || this.#indexedThrough >= this.#lastSeq) return;
    const through = this.#lastSeq;
    this.#transaction(() => {
      // Read again inside the transaction: only what no one (another store on this file, as a
      // host that did not die when it seemed to) indexed already; indexing a row twice corrupts FTS5.
      const indexed = this.#statement('SELECT value FROM room WHERE key = ?').get(INDEXED_KEY) as { value: string };
      const from = Number(indexed.value);
      if (from >= through) return;
      const index = this.#statement('INSERT INTO messages_fts (rowid, text) VALUES (?, ?)');
      const pending = this.#statement('SELECT seq, text FROM messages WHERE seq > ? AND seq <= ?');
      for (const row of pending.iterate(from, through) as Iterable<{ seq: number; text: string }>) {
        index.run(row.seq, row.text);
        this.#recordTerms(this.#newTerms(row.text));
      }
      this.#statement('UPDATE room SET value = ? WHERE key = ?').run(String(through), INDEXED_KEY);
    });
    this.#indexedThrough = through;
  }

  /** Words of `text` the table of indexed terms may not hold yet (none without FTS5). */
  #newTerms(text: string): string[] {
    if (!this.hasFts5) return [];
    return [...indexedTerms(text)].filter((term) => !this.#knownTerms.has(term));
  }

  /** Adds terms to messages_fts_terms (inside the caller's transaction), remembered up to KNOWN_TERMS. */
  #recordTerms(terms: readonly string[]): void {
    const insert = this.#statement('INSERT OR IGNORE INTO messages_fts_terms (term) VALUES (?)');
    for (const term of terms) {
      insert.run(term);
      // Past the bound (a flood of made-up words) the table still learns them; memory does not.
      if (this.#knownTerms.size < KNOWN_TERMS) this.#knownTerms.add(term);
    }
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** The message `sender` stored under `clientId`, if any (to recognise a resend), as it stands now. */
  findSent(sender: string, clientId: string): ChatMessage | undefined {
    const row = this.#bySenderClientId.get(sender, clientId) as MessageRow | undefined;
    return row && this.#hydrate([row])[0];
  }

  /** Message `seq` as it stands now (deleted ones included, flagged), or undefined if there is none. */
  getMessage(seq: number): ChatMessage | undefined {
    const row = this.#statement(`SELECT ${COLUMNS} FROM messages WHERE seq = ?`).get(seq) as MessageRow | undefined;
    return row && this.#hydrate([row])[0];
  }

  /**
   * Adds reactions and reply quotes to messages read from rows: one query each for the whole set,
   * by primary key. A deleted message shows none of its text, files, mentions or reactions.
   */
  #hydrate(rows: readonly MessageRow[]): ChatMessage[] {
    const messages = rows.map(toMessage);
    if (messages.length === 0) return messages;
    const reactions = this.#reactionsOf(messages.filter((m) => !m.deleted).map((m) => m.seq));
    const replied = rows.filter((row) => row.reply_to !== null).map((row) => row.reply_to!);
    const quotes = replied.length > 0 ? this.#quotes(replied) : new Map<number, ReplyQuote>();
    rows.forEach((row, i) => {
      const message = messages[i]!;
      const chosen = reactions.get(row.seq);
      if (chosen) message.reactions = chosen;
      const quote = row.reply_to === null ? undefined : quotes.get(row.reply_to);
      if (quote) message.replyTo = quote;
    });
    return messages;
  }

  /** Reactions of each of `seqs`: emoji in the order first chosen, members in the order they chose. */
  #reactionsOf(seqs: readonly number[]): Map<number, Reaction[]> {
    const bySeq = new Map<number, Reaction[]>();
    if (seqs.length === 0) return bySeq;
    // No ORDER BY here: ordering by rowid would make SQLite walk the table instead of the key.
    const rows = this.#statement(
      `SELECT rowid, message_seq, member, emoji FROM reactions
        WHERE message_seq IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(seqs)) as { rowid: number; message_seq: number; member: string; emoji: string }[];
    rows.sort((a, b) => a.rowid - b.rowid);
    for (const row of rows) {
      let reactions = bySeq.get(row.message_seq);
      if (!reactions) bySeq.set(row.message_seq, (reactions = []));
      const reaction = reactions.find((r) => r.emoji === row.emoji);
      if (reaction) reaction.by.push(row.member);
      else reactions.push({ emoji: row.emoji, by: [row.member] });
    }
    return bySeq;
  }

  /** Quotes of the messages `seqs` as they stand now (deleted: no text). */
  #quotes(seqs: readonly number[]): Map<number, ReplyQuote> {
    const rows = this.#statement(
      `SELECT seq, sender, text, files, deleted FROM messages WHERE seq IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(seqs)) as {
      seq: number;
      sender: string;
      text: string;
      files: string | null;
      deleted: number;
    }[];
    const quotes = new Map<number, ReplyQuote>();
    for (const row of rows) {
      if (row.deleted) {
        quotes.set(row.seq, { seq: row.seq, from: row.sender, text: '', deleted: true });
        continue;
      }
      const files = row.files === null ? 0 : (JSON.parse(row.files) as unknown[]).length;
      quotes.set(row.seq, {
        seq: row.seq,
        from: row.sender,
        text: startOf(row.text, WIRE_LIMITS.quoteChars),
        ...(files > 0 ? { files } : {}),
      });
    }
    return quotes;
  }

  /**
   * A page of what `viewer` may see, oldest first, each message as it stands now. `before` pages
   * backwards from the newest (a fresh join, "load older"); `after` pages forwards (resume) and
   * then carries the updates of the same span of seqs too (see HistoryPage).
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
    options: PageOptions = {},
  ): HistoryPage {
    const forward = range.after !== undefined;
    const { filter, other, channel } = filterOf(conversation, options.channels ?? false);
    const bound = forward ? range.after! : (range.before ?? Number.MAX_SAFE_INTEGER);
    const parameters = { bound, me: viewer, other, channel, limit: limit + 1 };
    const order = forward ? 'seq > :bound ORDER BY seq ASC' : 'seq < :bound ORDER BY seq DESC';
    const messageRows = this.#statement(messagesSql(filter, '', forward, ':limit')).iterate(
      parameters,
    ) as Iterator<MessageRow>;
    const updateRows = forward
      ? (this.#statement(`SELECT seq, payload FROM updates WHERE ${filter} AND ${order} LIMIT :limit`).iterate(
          parameters,
        ) as Iterator<UpdateRow>)
      : undefined;
    // Rows are read one at a time and reading stops at the budget: reading `limit` rows of 45 KB
    // messages only to drop most of them cost a hostile resume 45 MB of reads per welcome.
    // Forwards, messages and updates are merged by seq, so the page ends at one seq for both.
    const rows: MessageRow[] = [];
    const updates: Update[] = [];
    let bytes = 0;
    let hasMore = false;
    let message = messageRows.next();
    let update = updateRows?.next();
    while (!message.done || (update && !update.done)) {
      const takeUpdate = update !== undefined && !update.done && (message.done || update.value.seq < message.value.seq);
      bytes += takeUpdate
        ? update!.value.payload.length + UPDATE_OVERHEAD_BYTES
        : messageBytes(message.value!) + (message.value!.reaction_count ?? 0) * REACTION_BYTES;
      const taken = rows.length + updates.length;
      if (taken === limit || (taken > 0 && bytes > maxBytes)) {
        hasMore = true;
        break;
      }
      if (takeUpdate) {
        updates.push(JSON.parse(update!.value.payload) as Update);
        update = updateRows!.next();
      } else {
        rows.push(message.value!);
        message = messageRows.next();
      }
    }
    messageRows.return?.();
    updateRows?.return?.();
    if (!forward) rows.reverse();
    return { messages: this.#hydrate(rows), updates, hasMore };
  }

  /**
   * The names of everyone `messages` (and `updates`) name: senders, direct recipients, the authors
   * of quoted messages, the members mentioned and who reacted; by id, as stored, so a page keeps
   * who wrote it after they left. Ids with no stored identity are left out.
   */
  namesFor(messages: readonly ChatMessage[], updates: readonly Update[] = []): Record<string, string> {
    const ids = new Set<string>();
    for (const message of messages) {
      ids.add(message.from);
      if (message.to !== null) ids.add(message.to);
      if (message.replyTo) ids.add(message.replyTo.from);
      for (const id of message.mentions ?? []) ids.add(id);
      for (const reaction of message.reactions ?? []) for (const id of reaction.by) ids.add(id);
    }
    for (const update of updates) {
      ids.add(update.by);
      if (update.kind === 'edit') for (const id of update.mentions ?? []) ids.add(id);
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

  /**
   * Replaces the text and mentions of message `seq` by its author `by`, and returns the update that
   * says so, under the next seq. With `keepHistory` (default: the store's keepEditHistory) the text
   * it replaces is kept in this database, never sent. The caller checks first (and answers the
   * member); these throws only guard the store: BeaconError BEACON_ERR_NO_SUCH_MESSAGE (none,
   * deleted, or a direct message `by` is not in), BEACON_ERR_NOT_YOURS, BEACON_ERR_CHANNEL_ARCHIVED.
   */
  editMessage(edit: {
    seq: number;
    by: string;
    text: string;
    mentions?: string[];
    ts: number;
    keepHistory?: boolean;
  }): Update {
    const { seq } = edit;
    const target = this.#ownLiveMessage(seq, edit.by);
    this.#refuseArchived(target.channel);
    const mentions = edit.mentions && edit.mentions.length > 0 ? edit.mentions : undefined;
    const update: Update = {
      kind: 'edit',
      seq: this.#lastSeq + 1,
      ts: edit.ts,
      by: target.from,
      target: seq,
      text: edit.text,
      ...(mentions ? { mentions } : {}),
    };
    this.#transaction(() => {
      if (edit.keepHistory ?? this.#keepEditHistory) {
        this.#statement(
          'INSERT INTO edit_history (message_seq, text, mentions, replaced_at) SELECT seq, text, mentions, ? FROM messages WHERE seq = ?',
        ).run(edit.ts, seq);
      }
      this.#recordTerms(this.#newTerms(edit.text));
      this.#statement('UPDATE messages SET text = ?, mentions = ?, edited_at = ? WHERE seq = ?').run(
        edit.text,
        mentions ? JSON.stringify(mentions) : null,
        edit.ts,
        seq,
      );
      this.#recordUpdate(update, target);
    });
    return update;
  }

  /**
   * Deletes message `seq` for everyone: its text, files, mentions and reactions go (the row, its
   * seq and its place in replies stay), its files that no other live message carries are no longer
   * served (findFile no longer finds them), and the update that says so (by its author) is returned.
   * Deleting in an archived channel is allowed. Throws as editMessage does (but never ARCHIVED).
   */
  deleteMessage(deletion: { seq: number; by: string; ts: number }): Update {
    const { seq, ts } = deletion;
    const target = this.#ownLiveMessage(seq, deletion.by);
    const update: Update = { kind: 'delete', seq: this.#lastSeq + 1, ts, by: target.from, target: seq };
    this.#transaction(() => {
      this.#statement(`UPDATE messages SET text = '', files = NULL, mentions = NULL, deleted = 1 WHERE seq = ?`).run(
        deletion.seq,
      );
      this.#statement('DELETE FROM reactions WHERE message_seq = ?').run(deletion.seq);
      // Only what no live message carries any more: the same file may have been sent twice.
      this.#statement(
        `UPDATE files SET withdrawn = 1 WHERE id IN (
           SELECT file_id FROM message_files AS carried WHERE message_seq = :seq
              AND NOT EXISTS (SELECT 1 FROM message_files AS other JOIN messages ON messages.seq = other.message_seq
                               WHERE other.file_id = carried.file_id AND other.message_seq != :seq AND messages.deleted = 0))`,
      ).run({ seq: deletion.seq });
      if (this.#keepEditHistory) {
        this.#statement('INSERT INTO edit_history (message_seq, text, mentions, replaced_at) VALUES (?, ?, ?, ?)').run(
          deletion.seq,
          target.text,
          target.mentions ? JSON.stringify(target.mentions) : null,
          deletion.ts,
        );
      }
      this.#recordUpdate(update, target);
    });
    return update;
  }

  /**
   * Sets member `by`'s reaction `emoji` on message `seq` (on: chosen, off: taken back). Returns the
   * update, or null when nothing changed (already so): no seq is spent and nothing is to be sent.
   * Throws BeaconError: BEACON_ERR_NO_SUCH_MESSAGE (none, deleted, or a direct message `by` is not
   * in), BEACON_ERR_CHANNEL_ARCHIVED, BEACON_ERR_TOO_MANY_REACTIONS (a new emoji past MAX_EMOJI_PER_MESSAGE).
   */
  react(reaction: { seq: number; by: string; emoji: string; on: boolean; ts: number }): Update | null {
    const { seq, by } = reaction;
    const target = this.#liveMessageFor(seq, by);
    this.#refuseArchived(target.channel);
    const update: Update = {
      kind: 'react',
      seq: this.#lastSeq + 1,
      ts: reaction.ts,
      by: reaction.by,
      target: reaction.seq,
      emoji: reaction.emoji,
      on: reaction.on,
    };
    return this.#transaction(() => {
      if (reaction.on) {
        const emoji = this.#statement('SELECT DISTINCT emoji FROM reactions WHERE message_seq = ?').all(
          reaction.seq,
        ) as {
          emoji: string;
        }[];
        if (emoji.length >= MAX_EMOJI_PER_MESSAGE && !emoji.some((row) => row.emoji === reaction.emoji)) {
          throw new BeaconError('BEACON_ERR_TOO_MANY_REACTIONS');
        }
      }
      const { changes } = reaction.on
        ? this.#statement('INSERT OR IGNORE INTO reactions (message_seq, member, emoji, at) VALUES (?, ?, ?, ?)').run(
            reaction.seq,
            reaction.by,
            reaction.emoji,
            reaction.ts,
          )
        : this.#statement('DELETE FROM reactions WHERE message_seq = ? AND member = ? AND emoji = ?').run(
            reaction.seq,
            reaction.by,
            reaction.emoji,
          );
      if (Number(changes) === 0) return null;
      this.#recordUpdate(update, target);
      return update;
    });
  }

  /** Message `seq` if it exists, is not deleted, and `viewer` may see it; else BEACON_ERR_NO_SUCH_MESSAGE. */
  #liveMessageFor(seq: number, viewer: string): ChatMessage {
    const message = this.getMessage(seq);
    if (!message || message.deleted || (message.to !== null && message.to !== viewer && message.from !== viewer)) {
      throw new BeaconError('BEACON_ERR_NO_SUCH_MESSAGE');
    }
    return message;
  }

  #ownLiveMessage(seq: number, by: string): ChatMessage {
    const message = this.#liveMessageFor(seq, by);
    if (message.from !== by) throw new BeaconError('BEACON_ERR_NOT_YOURS');
    return message;
  }

  #refuseArchived(channel: string | undefined): void {
    if (channel !== undefined && this.getChannel(channel)?.archived)
      throw new BeaconError('BEACON_ERR_CHANNEL_ARCHIVED');
  }

  /** Stores `update` under its seq, visible to whoever may see `target` (a message) or to the whole room. */
  #recordUpdate(update: Update, target: ChatMessage | { channel: string }): void {
    const isMessage = 'seq' in target;
    this.#statement(
      `INSERT INTO updates (seq, kind, target, actor, ts, sender, recipient, channel, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      update.seq,
      update.kind,
      update.kind === 'channel' ? null : update.target,
      update.by,
      update.ts,
      isMessage ? target.from : null,
      isMessage ? target.to : null,
      storedChannel(target.channel),
      JSON.stringify(update),
    );
    this.#lastSeq = update.seq;
  }

  /** Every channel of the room, the default one first, then in the order they were made; archived ones included. */
  channels(): Channel[] {
    return (
      this.#statement(
        `SELECT id, name, topic, created_by, created_at, archived FROM channels ORDER BY id != '${DEFAULT_CHANNEL}', rowid`,
      ).all() as unknown as ChannelRow[]
    ).map(toChannel);
  }

  getChannel(id: string): Channel | undefined {
    const row = this.#statement(
      'SELECT id, name, topic, created_by, created_at, archived FROM channels WHERE id = ?',
    ).get(id) as ChannelRow | undefined;
    return row && toChannel(row);
  }

  /**
   * Makes a channel named `name` (trimmed and checked by the caller), unique in the room ignoring
   * case and look-alikes (the keys of member names), and returns the update that announces it.
   * `id` is for tests; the store picks one otherwise. How many channels a room may hold and who may
   * create them is the caller's to check. Throws BeaconError BEACON_ERR_CHANNEL_NAME_TAKEN.
   */
  createChannel(request: { name: string; topic?: string; by: string; ts: number; id?: string }): Update {
    this.#refuseTakenName(request.name, null);
    return this.#saveChannel(
      {
        id: request.id ?? newChannelId(),
        name: request.name,
        topic: request.topic ?? '',
        createdBy: request.by,
        createdAt: request.ts,
        archived: false,
      },
      request.by,
      request.ts,
    );
  }

  /**
   * Renames a channel, sets its topic, archives it or brings it back; returns the update with its
   * whole record. Who may is the caller's to check. Throws BeaconError BEACON_ERR_NO_SUCH_CHANNEL,
   * BEACON_ERR_CHANNEL_NAME_TAKEN, BEACON_ERR_NOT_ALLOWED (archiving the default channel).
   */
  updateChannel(request: {
    id: string;
    by: string;
    ts: number;
    name?: string;
    topic?: string;
    archived?: boolean;
  }): Update {
    const current = this.getChannel(request.id);
    if (!current) throw new BeaconError('BEACON_ERR_NO_SUCH_CHANNEL');
    if (request.archived === true && request.id === DEFAULT_CHANNEL) throw new BeaconError('BEACON_ERR_NOT_ALLOWED');
    if (request.name !== undefined) this.#refuseTakenName(request.name, request.id);
    const channel: Channel = {
      ...current,
      ...(request.name === undefined ? {} : { name: request.name }),
      ...(request.topic === undefined ? {} : { topic: request.topic }),
      ...(request.archived === undefined ? {} : { archived: request.archived }),
    };
    return this.#saveChannel(channel, request.by, request.ts);
  }

  #saveChannel(channel: Channel, by: string, ts: number): Update {
    const update: Update = { kind: 'channel', seq: this.#lastSeq + 1, ts, by, channel };
    this.#transaction(() => {
      this.#statement(
        `INSERT INTO channels (id, name, topic, created_by, created_at, archived) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, archived = excluded.archived`,
      ).run(channel.id, channel.name, channel.topic, channel.createdBy, channel.createdAt, channel.archived ? 1 : 0);
      this.#recordUpdate(update, { channel: channel.id });
    });
    return update;
  }

  /** Throws BEACON_ERR_CHANNEL_NAME_TAKEN when a channel other than `self` holds a look-alike of `name`. */
  #refuseTakenName(name: string, self: string | null): void {
    const wanted = new Set(keysOf(name));
    for (const channel of this.channels()) {
      if (channel.id !== self && keysOf(channel.name).some((key) => wanted.has(key))) {
        throw new BeaconError('BEACON_ERR_CHANNEL_NAME_TAKEN');
      }
    }
  }

  /**
   * The messages `viewer` may see that hold every word of `query` (the last also as a prefix),
   * newest first, with where the words are and two neighbours each side (PROTOCOL.md §19.8).
   * Never another pair's direct messages, never a deleted message; without `channels` only the
   * default channel and the viewer's own direct messages. Throws BEACON_ERR_SEARCH_UNAVAILABLE
   * without FTS5.
   */
  search(request: SearchQuery): { hits: SearchHit[]; hasMore: boolean } {
    if (!this.hasFts5) throw new BeaconError('BEACON_ERR_SEARCH_UNAVAILABLE');
    // Everything appended until now is found: the last batch is indexed first (a few ms at most).
    this.#indexPending();
    const words = searchWords(request.query);
    if (!words) return { hits: [], hasMore: false };
    const { filter, other, channel } = filterOf(request.conversation ?? 'all', request.channels);
    const narrowing = [
      request.from === undefined ? '' : ' AND sender = :from',
      request.since === undefined ? '' : ' AND ts >= :since',
      request.until === undefined ? '' : ' AND ts < :until',
    ].join('');
    // FTS5 hands out matches newest first (rowid order), and the CROSS JOIN keeps it the outer loop,
    // so the LIMIT stops reading matches as soon as enough visible ones are found. At most
    // SEARCH_SCAN of them are read: narrowed to a person who never wrote the words, a search read
    // every match in the room and held the host for a second per 200,000.
    const match = `SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match AND rowid < :before
                    ORDER BY rowid DESC LIMIT ${SEARCH_SCAN}`;
    const parameters = {
      match: ftsExpression(words, this.#termsBeginning(words.at(-1)!)),
      before: request.before ?? Number.MAX_SAFE_INTEGER,
      me: request.viewer,
      other,
      channel,
      from: request.from ?? null,
      since: request.since ?? null,
      until: request.until ?? null,
      limit: request.limit + 1,
    };
    const rows = this.#statement(
      `SELECT ${COLUMNS.split(', ')
        .map((column) => `messages.${column}`)
        .join(', ')}
         FROM (${match}) AS found CROSS JOIN messages ON messages.seq = found.rowid
        WHERE messages.deleted = 0 AND ${filter}${narrowing}
        ORDER BY found.rowid DESC LIMIT :limit`,
    ).all(parameters) as unknown as MessageRow[];
    // Past the matches read there may be more; the next page goes on from the last hit.
    const hasMore =
      rows.length > request.limit ||
      (rows.length > 0 &&
        (this.#statement(`SELECT count(*) AS read FROM (${match})`).get(parameters) as { read: number }).read ===
          SEARCH_SCAN);
    const messages = this.#hydrate(rows.slice(0, request.limit));
    // The neighbours of every hit are read first and completed in one go (one reactions query, one quotes query).
    const sides = messages.map((message) => [this.#neighbours(message, false), this.#neighbours(message, true)]);
    const context = this.#hydrate(sides.flat(2));
    let at = 0;
    const take = (rows: readonly MessageRow[]) => context.slice(at, (at += rows.length));
    const hits = messages.map((message, i): SearchHit => ({
      message,
      highlights: highlightRanges(message.text, words),
      before: take(sides[i]![0]!),
      after: take(sides[i]![1]!),
    }));
    return { hits, hasMore };
  }

  /**
   * The indexed terms `word` begins (folded), when it is longer than FTS5's own prefix index and
   * begins few enough to list; else undefined, and FTS5 answers the prefix itself.
   */
  #termsBeginning(word: string): string[] | undefined {
    const folded = foldWord(word);
    if ([...folded].length <= PREFIX_INDEX_CHARS) return undefined;
    const terms = (
      this.#statement(
        `SELECT term FROM messages_fts_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ${MAX_PREFIX_TERMS + 1}`,
      ).all(folded, `${folded}\u{10FFFF}`) as { term: string }[]
    ).map((row) => row.term);
    return terms.length > MAX_PREFIX_TERMS ? undefined : terms;
  }

  /** Rows of up to SEARCH_CONTEXT live messages of `message`'s conversation next to it, oldest first. */
  #neighbours(message: ChatMessage, forward: boolean): MessageRow[] {
    const conversation: Conversation =
      message.to !== null ? { with: message.to } : message.channel ? { channel: message.channel } : 'room';
    const { filter, other, channel } = filterOf(conversation, true);
    const rows = this.#statement(messagesSql(filter, ' AND deleted = 0', forward, String(SEARCH_CONTEXT))).all({
      bound: message.seq,
      me: message.from,
      other: other === message.from ? message.to : other,
      channel,
    }) as unknown as MessageRow[];
    if (!forward) rows.reverse();
    return rows;
  }

  findMemberByToken(token: string): StoredMember | undefined {
    const row = this.#statement('SELECT id, name, token, joined_at FROM members WHERE token = ?').get(token) as
      { id: string; name: string; token: string; joined_at: number } | undefined;
    return row && { id: row.id, name: row.name, token: row.token, joinedAt: row.joined_at };
  }

  /**
   * Up to `limit` members `id` has a direct conversation with (wrote to, or was written to by),
   * in no particular order: two DISTINCT reads, each over an index (messages_sent_direct, messages_direct).
   */
  partnersOf(id: string, limit: number): string[] {
    const wroteTo = this.#statement(
      'SELECT DISTINCT recipient AS id FROM messages WHERE sender = ? AND recipient IS NOT NULL LIMIT ?',
    ).all(id, limit) as { id: string }[];
    const partners = new Set(wroteTo.map((row) => row.id));
    if (partners.size < limit) {
      const heardFrom = this.#statement('SELECT DISTINCT sender AS id FROM messages WHERE recipient = ? LIMIT ?').all(
        id,
        limit,
      ) as { id: string }[];
      for (const row of heardFrom) if (partners.size < limit) partners.add(row.id);
    }
    partners.delete(id);
    return [...partners];
  }

  saveMember(member: StoredMember): void {
    // A prepared statement kept, not prepared per call: a join storm saves thousands of identities.
    this.#statement(
      `INSERT INTO members (id, name, token, joined_at, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
    ).run(member.id, member.name, member.token, member.joinedAt, member.joinedAt);
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
    this.#indexPending();
    // Leave a compact database behind: fold the WAL in and truncate it.
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // Busy: the next open replays the WAL; nothing is lost.
    }
    this.#db.close();
  }
}

/** A new channel's id: "c_" and 16 characters 0-9a-z (PROTOCOL.md §19.2). */
function newChannelId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  // 252 is the largest multiple of 36 below 256: bytes past it are skipped so every character is as likely.
  let id = 'c_';
  while (id.length < 18) {
    for (const byte of randomBytes(24)) if (byte < 252 && id.length < 18) id += alphabet[byte % 36];
  }
  return id;
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
