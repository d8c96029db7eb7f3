import type { DatabaseSync } from 'node:sqlite';

/**
 * The full-text index over messages (protocol v1.5 search): an FTS5 table with external content
 * (the text lives once, in `messages`).
 *
 * New messages are indexed in batches (HistoryStore: every SEARCH_BATCH messages, before every
 * search, on close and on open), up to the seq recorded under INDEXED_KEY in the same transaction:
 * FTS5 writes a segment per transaction, and indexing each message in its own append's
 * transaction cost 90 µs of CPU per message, three times the append itself. Edits and deletions
 * of messages already indexed are applied by triggers in their own transaction; those of messages
 * not yet indexed are left to the batch, which reads the text as it stands. So a crash can never
 * leave the index out of step with the history: it is at most behind, and caught up on open.
 *
 * It is derived data, built here rather than in a numbered migration: a SQLite without FTS5
 * could not run such a migration, and everything but search must work there. A history opened
 * once by a SQLite without FTS5 loses its triggers (writes would fail on them) and is marked
 * stale; the next open with FTS5 rebuilds the index from the messages.
 */

const STALE_KEY = 'search_index_stale';
/** The room setting holding the highest seq whose message the index holds. */
export const INDEXED_KEY = 'search_indexed_through';

/**
 * Prefixes FTS5 keeps an index of (in characters): the last word of a query that short is read
 * from it. A longer last word is expanded by the store into the terms it begins (from
 * messages_fts_terms), because FTS5 answers a prefix with no index of its own by merging the whole
 * posting list of every term it begins: 250 ms for a common word over a million messages.
 */
export const PREFIX_INDEX_CHARS = 3;

// Only for rows the index holds: an FTS5 'delete' of text it was never given corrupts it.
const INDEXED = `old.seq <= CAST((SELECT value FROM room WHERE key = '${INDEXED_KEY}') AS INTEGER)`;
const TRIGGERS = `
  CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages WHEN ${INDEXED} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);
  END;
  CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages WHEN ${INDEXED} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
  END;`;

// messages_fts_insert indexed each message as it was appended (an earlier build of this version).
const TRIGGER_NAMES = ['messages_fts_insert', 'messages_fts_update', 'messages_fts_delete'];

/**
 * Makes the index whole: creates and fills it on the first open after migration 5 (or after an
 * open without FTS5), or, without FTS5, takes its triggers away. Returns whether it was (re)built.
 */
export function ensureSearchIndex(db: DatabaseSync, hasFts5: boolean): boolean {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").get() !== undefined;
  // Without its table of terms (as an earlier build of this version left it) the index is rebuilt too.
  const stale =
    db.prepare('SELECT 1 FROM room WHERE key = ?').get(STALE_KEY) !== undefined ||
    db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_terms'").get() === undefined ||
    db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_insert'").get() !== undefined;
  if (!hasFts5) {
    if (!exists) return false;
    db.exec('BEGIN');
    for (const name of TRIGGER_NAMES) db.exec(`DROP TRIGGER IF EXISTS ${name}`);
    db.prepare("INSERT OR REPLACE INTO room (key, value) VALUES (?, '1')").run(STALE_KEY);
    db.exec('COMMIT');
    return false;
  }
  if (exists && !stale) return false;
  db.exec('BEGIN');
  try {
    if (!exists) {
      db.exec(`CREATE VIRTUAL TABLE messages_fts USING fts5(
                 text, content = 'messages', content_rowid = 'seq',
                 tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
               )`);
    }
    for (const name of TRIGGER_NAMES) db.exec(`DROP TRIGGER IF EXISTS ${name}`);
    db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')");
    db.prepare(
      `INSERT INTO room (key, value) VALUES (?, (SELECT COALESCE(max(seq), 0) FROM messages))
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(INDEXED_KEY);
    // Every term in the index, as FTS5 folded it; from now on the store adds the terms it writes.
    db.exec(`CREATE TABLE IF NOT EXISTS messages_fts_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
             DELETE FROM messages_fts_terms;
             CREATE VIRTUAL TABLE temp.messages_fts_vocabulary USING fts5vocab(main, messages_fts, 'row');
             INSERT INTO messages_fts_terms (term) SELECT term FROM temp.messages_fts_vocabulary;
             DROP TABLE temp.messages_fts_vocabulary;`);
    db.exec(TRIGGERS);
    db.prepare('DELETE FROM room WHERE key = ?').run(STALE_KEY);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
  return true;
}
