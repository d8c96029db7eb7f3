/**
 * A room's history written by any earlier Beacon opens in this one with
 * nothing lost. Each earlier schema is built here by hand, as it shipped
 * (frozen below: a shipped migration is never edited), filled with rows, and
 * opened with HistoryStore.open on a real file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/host/store/history-store.ts';
import { MIGRATIONS } from '../../src/host/store/migrations.ts';
import { cleanup, tempDir } from '../helpers/room.ts';

afterEach(cleanup);

/** The schema of each version as it shipped: SHIPPED[n] takes a version-n file to version n + 1. */
const SHIPPED: readonly string[] = [
  `CREATE TABLE members (
     id         TEXT PRIMARY KEY,
     name       TEXT NOT NULL,
     token      TEXT NOT NULL UNIQUE,
     joined_at  INTEGER NOT NULL
   );
   CREATE TABLE messages (
     seq        INTEGER PRIMARY KEY,
     sender     TEXT NOT NULL,
     recipient  TEXT,
     text       TEXT NOT NULL,
     ts         INTEGER NOT NULL,
     client_id  TEXT NOT NULL,
     UNIQUE (sender, client_id)
   );
   CREATE INDEX messages_direct ON messages (recipient, sender, seq) WHERE recipient IS NOT NULL;`,
  `CREATE TABLE room (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `ALTER TABLE members ADD COLUMN last_seen INTEGER;
   UPDATE members SET last_seen = joined_at;
   CREATE INDEX members_last_seen ON members (last_seen);`,
  `CREATE TABLE files (
     id            TEXT PRIMARY KEY,
     uploader      TEXT NOT NULL,
     conversation  TEXT NOT NULL,
     name          TEXT NOT NULL,
     size          INTEGER NOT NULL,
     declared_type TEXT NOT NULL,
     media_type    TEXT,
     sha256        TEXT NOT NULL,
     width         INTEGER,
     height        INTEGER,
     preview_id    TEXT,
     created_at    INTEGER NOT NULL,
     finished      INTEGER NOT NULL DEFAULT 1
   );
   CREATE INDEX files_sha256 ON files (sha256);
   ALTER TABLE messages ADD COLUMN files TEXT;`,
  `CREATE TABLE channels (
     id          TEXT PRIMARY KEY,
     name        TEXT NOT NULL,
     topic       TEXT NOT NULL DEFAULT '',
     created_by  TEXT,
     created_at  INTEGER NOT NULL,
     archived    INTEGER NOT NULL DEFAULT 0
   );
   INSERT INTO channels (id, name, created_at) VALUES ('room', 'general', COALESCE((SELECT min(ts) FROM messages), 0));
   ALTER TABLE messages ADD COLUMN channel TEXT;
   ALTER TABLE messages ADD COLUMN reply_to INTEGER;
   ALTER TABLE messages ADD COLUMN mentions TEXT;
   ALTER TABLE messages ADD COLUMN edited_at INTEGER;
   ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX messages_channel ON messages (channel, seq) WHERE channel IS NOT NULL;
   CREATE TABLE reactions (
     message_seq INTEGER NOT NULL,
     member      TEXT NOT NULL,
     emoji       TEXT NOT NULL,
     at          INTEGER NOT NULL,
     PRIMARY KEY (message_seq, member, emoji)
   );
   CREATE INDEX reactions_member ON reactions (member);
   CREATE TABLE updates (
     seq        INTEGER PRIMARY KEY,
     kind       TEXT NOT NULL,
     target     INTEGER,
     actor      TEXT NOT NULL,
     ts         INTEGER NOT NULL,
     sender     TEXT,
     recipient  TEXT,
     channel    TEXT,
     payload    TEXT NOT NULL
   );
   CREATE TABLE edit_history (
     message_seq INTEGER NOT NULL,
     text        TEXT NOT NULL,
     mentions    TEXT,
     replaced_at INTEGER NOT NULL
   );
   CREATE INDEX edit_history_message ON edit_history (message_seq);
   CREATE TABLE message_files (
     file_id     TEXT NOT NULL,
     message_seq INTEGER NOT NULL,
     PRIMARY KEY (file_id, message_seq)
   ) WITHOUT ROWID;
   INSERT OR IGNORE INTO message_files (file_id, message_seq)
     SELECT json_extract(ref.value, '$.id'), messages.seq FROM messages, json_each(messages.files) AS ref
      WHERE messages.files IS NOT NULL
     UNION ALL
     SELECT json_extract(ref.value, '$.preview.id'), messages.seq FROM messages, json_each(messages.files) AS ref
      WHERE messages.files IS NOT NULL AND json_extract(ref.value, '$.preview.id') IS NOT NULL;
   ALTER TABLE files ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;`,
  `CREATE INDEX messages_sent_direct ON messages (sender, recipient) WHERE recipient IS NOT NULL;`,
];

const LATEST = MIGRATIONS.length;
const ANN = { id: 'm_ann', name: 'Ann', token: 't_ann', joinedAt: 1_000 };
const BOB = { id: 'm_bob', name: 'Bob', token: 't_bob', joinedAt: 2_000 };
/** Seen once, long ago, never wrote nor was written to. */
const GHOST = { id: 'm_ghost', name: 'Ghost', token: 't_ghost', joinedAt: 10 };

const file = (dir: string): string => join(dir, 'beacon.db');

/** A history file at `version`, built with the schema that version shipped with, holding a few rows. */
function historyAt(version: number): string {
  const dir = tempDir();
  const db = new DatabaseSync(file(dir));
  for (const sql of SHIPPED.slice(0, version)) db.exec(sql);
  db.exec(`PRAGMA user_version = ${version}`);
  if (version >= 1) {
    const member = db.prepare('INSERT INTO members (id, name, token, joined_at) VALUES (?, ?, ?, ?)');
    for (const m of [ANN, BOB, GHOST]) member.run(m.id, m.name, m.token, m.joinedAt);
    const message = db.prepare(
      'INSERT INTO messages (seq, sender, recipient, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    message.run(1, ANN.id, null, 'hello room', 1_100, 'c1');
    message.run(2, BOB.id, ANN.id, 'hi Ann, just you', 2_100, 'c1');
    message.run(3, ANN.id, null, 'see you', 2_200, 'c2');
  }
  if (version >= 2) db.prepare("INSERT INTO room VALUES ('name', 'Team room')").run();
  if (version >= 3) {
    // As version 3 saves members (last seen when they joined), and Ann came back later.
    db.exec('UPDATE members SET last_seen = joined_at');
    db.prepare('UPDATE members SET last_seen = ? WHERE id = ?').run(5_000, ANN.id);
  }
  db.close();
  return dir;
}

/** A raw look at the file, with the store closed. */
function look<T>(dir: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file(dir), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const versionOf = (dir: string): number =>
  look(dir, (db) => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);

const lastSeenOf = (dir: string): Record<string, number | null> =>
  look(dir, (db) =>
    Object.fromEntries(
      (db.prepare('SELECT id, last_seen FROM members ORDER BY id').all() as { id: string; last_seen: number }[]).map(
        (row) => [row.id, row.last_seen],
      ),
    ),
  );

const columnsOf = (dir: string, table: string): string[] =>
  look(dir, (db) => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));

const indexesOf = (dir: string): string[] =>
  look(dir, (db) =>
    (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string }[]
    ).map((row) => row.name),
  );

/** The tables and indexes a database holds, as SQLite records them. */
function schemaOf(sqls: readonly string[]): unknown[] {
  const db = new DatabaseSync(':memory:');
  for (const sql of sqls) db.exec(sql);
  const schema = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();
  db.close();
  return schema;
}

describe('the shipped schemas', () => {
  it.each(Array.from({ length: LATEST }, (_, i) => i + 1))(
    'the first %i migrations still build the schema that version shipped with',
    (version) => {
      expect(schemaOf(MIGRATIONS.slice(0, version))).toEqual(schemaOf(SHIPPED.slice(0, version)));
    },
  );

  it('this build knows no version the tests do not (a new migration needs its fixture here)', () => {
    expect(LATEST).toBe(SHIPPED.length);
  });
});

describe('opening a history from an earlier version', () => {
  it.each(Array.from({ length: LATEST - 1 }, (_, i) => i + 1))(
    'version %i: every message and member is kept and the room carries on numbering',
    (version) => {
      const dir = historyAt(version);
      const store = HistoryStore.open(dir);
      expect(store.schemaVersion).toBe(LATEST);
      expect(store.lastSeq).toBe(3);
      expect(store.page(ANN.id, 'all', {}, 10).messages.map((m) => [m.seq, m.text, m.to])).toEqual([
        [1, 'hello room', null],
        [2, 'hi Ann, just you', ANN.id],
        [3, 'see you', null],
      ]);
      expect(store.page(GHOST.id, 'all', {}, 10).messages.map((m) => m.seq)).toEqual([1, 3]);
      for (const member of [ANN, BOB, GHOST]) expect(store.findMemberByToken(member.token)).toEqual(member);
      // A resend of a message stored by the old version is still recognised as one.
      expect(store.append({ sender: ANN.id, recipient: null, text: 'see you', ts: 9, clientId: 'c2' })).toMatchObject({
        duplicate: true,
        message: { seq: 3 },
      });
      expect(
        store.append({ sender: BOB.id, recipient: null, text: 'new', ts: 9_000, clientId: 'c2' }).message.seq,
      ).toBe(4);
      store.close();
      expect(versionOf(dir)).toBe(LATEST);
    },
  );

  it.each([1, 2])(
    'version %i: members are given as last seen the time they joined, so their names stay reserved and stale ones can be pruned',
    (version) => {
      const dir = historyAt(version);
      const store = HistoryStore.open(dir);
      expect(store.recentIdentities(1_000)).toEqual([
        { id: ANN.id, name: 'Ann' },
        { id: BOB.id, name: 'Bob' },
      ]);
      // Ghost never wrote and was never written to: the only one an idle-identity prune forgets.
      expect(store.pruneIdentities(100, 1_000)).toBe(1);
      expect(store.findMemberByToken(GHOST.token)).toBeUndefined();
      store.close();
      expect(lastSeenOf(dir)).toEqual({ [ANN.id]: ANN.joinedAt, [BOB.id]: BOB.joinedAt });
      expect(indexesOf(dir)).toContain('members_last_seen');
    },
  );

  it.each(Array.from({ length: 3 }, (_, i) => i + 1))(
    'version %i (before files): every message reads back as text only, and files can be recorded and sent',
    (version) => {
      const dir = historyAt(version);
      const store = HistoryStore.open(dir);
      const page = store.page(ANN.id, 'all', {}, 10).messages;
      expect(page.every((message) => !('files' in message))).toBe(true);
      expect(store.storedFileBytes()).toBe(0);
      const file = {
        id: 'f_AAAAAAAAAAAAAAAAAAAAAA',
        uploader: BOB.id,
        conversation: 'room',
        name: 'plans.png',
        size: 10,
        declaredType: 'image/png',
        mediaType: 'image/png',
        sha256: 'a'.repeat(64),
        width: 4,
        height: 3,
        previewId: null,
        createdAt: 3_000,
      };
      store.insertFile(file);
      const ref = { id: file.id, name: file.name, size: 10, type: 'image/png', sha256: file.sha256 };
      store.append({ sender: BOB.id, recipient: null, text: '', ts: 3_001, clientId: 'c9', files: [ref] });
      store.close();
      expect(columnsOf(dir, 'messages')).toContain('files');
      expect(indexesOf(dir)).toContain('files_sha256');
      const again = HistoryStore.open(dir);
      expect(again.findFile(file.id)).toEqual(file);
      // A 10-byte file takes a whole 4 KiB block on disk, and the quota counts it so.
      expect(again.storedFileBytes()).toBe(4096);
      expect(again.page(ANN.id, 'room', {}, 10).messages.at(-1)).toMatchObject({ seq: 4, text: '', files: [ref] });
      expect(again.page(ANN.id, 'room', {}, 10).messages[0]).toEqual({
        seq: 1,
        from: ANN.id,
        to: null,
        text: 'hello room',
        ts: 1_100,
        clientId: 'c1',
      });
      again.close();
    },
  );

  it('version 1 (before room settings): the room gets a place for its name', () => {
    const store = HistoryStore.open(historyAt(1));
    expect(store.getSetting('name')).toBeUndefined();
    store.setSetting('name', 'Named later');
    expect(store.getSetting('name')).toBe('Named later');
    store.close();
  });

  it('version 2: the room keeps its name', () => {
    const dir = historyAt(2);
    expect(HistoryStore.storedRoomName(dir)).toBe('Team room');
    const store = HistoryStore.open(dir);
    expect(store.getSetting('name')).toBe('Team room');
    store.close();
  });

  it.each([
    ['an empty file, as a first start that stopped early leaves it', (dir: string) => writeFileSync(file(dir), '')],
    ['a database with no tables yet', (dir: string) => new DatabaseSync(file(dir)).close()],
  ])('version 0 (%s) becomes an empty history', (_, make) => {
    const dir = tempDir();
    make(dir);
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(LATEST);
    expect(store.lastSeq).toBe(0);
    expect(store.page('m_a', 'all', {}, 10).messages).toEqual([]);
    store.saveMember(ANN);
    expect(store.findMemberByToken(ANN.token)).toEqual(ANN);
    store.close();
  });

  it('the current version opens unchanged: last-seen times are not rewritten', () => {
    const dir = historyAt(LATEST);
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(LATEST);
    expect(store.getSetting('name')).toBe('Team room');
    store.close();
    expect(lastSeenOf(dir)).toEqual({ [ANN.id]: 5_000, [BOB.id]: BOB.joinedAt, [GHOST.id]: GHOST.joinedAt });
  });

  it('a migration that fails half way is a clear error, leaves nothing half done, and runs once the cause is gone', () => {
    const dir = historyAt(2);
    // An index already holding the name migration 3 gives its own: its ALTER and UPDATE run, then CREATE INDEX fails.
    let db = new DatabaseSync(file(dir));
    db.exec('CREATE INDEX members_last_seen ON messages (ts)');
    db.close();
    expect(() => HistoryStore.open(dir)).toThrow(
      expect.objectContaining({
        code: 'BEACON_ERR_STORE',
        message: expect.stringMatching(
          /^The room history could not be opened\. \(.*members_last_seen already exists\)$/,
        ),
      }),
    );
    expect(columnsOf(dir, 'members')).toEqual(['id', 'name', 'token', 'joined_at']);
    expect(versionOf(dir)).toBe(2);

    db = new DatabaseSync(file(dir));
    db.exec('DROP INDEX members_last_seen');
    db.close();
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(LATEST);
    expect(store.findMemberByToken(ANN.token)).toEqual(ANN);
    store.close();
    expect(lastSeenOf(dir)).toEqual({
      [ANN.id]: ANN.joinedAt,
      [BOB.id]: BOB.joinedAt,
      [GHOST.id]: GHOST.joinedAt,
    });
  });
});

describe('version 4 to 5: conversations (protocol v1.5)', () => {
  /** A version-4 history holding, besides the common rows, a message with a file and its preview. */
  function withFiles(): { dir: string; fileId: string; previewId: string } {
    const dir = historyAt(4);
    const fileId = 'f_PLANPLANPLANPLANPLANPL';
    const previewId = 'f_PREVPREVPREVPREVPREVPR';
    const db = new DatabaseSync(file(dir));
    const insert = db.prepare(
      `INSERT INTO files (id, uploader, conversation, name, size, declared_type, media_type, sha256, width, height, preview_id, created_at)
       VALUES (?, ?, 'room', ?, 10, 'image/png', 'image/png', ?, 4, 3, ?, 3000)`,
    );
    insert.run(fileId, ANN.id, 'plan.png', 'a'.repeat(64), previewId);
    insert.run(previewId, ANN.id, 'plan-preview.png', 'b'.repeat(64), null);
    const ref = {
      id: fileId,
      name: 'plan.png',
      size: 10,
      type: 'image/png',
      sha256: 'a'.repeat(64),
      image: { width: 4, height: 3 },
      preview: { id: previewId, width: 4, height: 3 },
    };
    db.prepare(
      "INSERT INTO messages (seq, sender, recipient, text, ts, client_id, files) VALUES (4, ?, NULL, 'the floor plan', 3100, 'c9', ?)",
    ).run(ANN.id, JSON.stringify([ref]));
    db.close();
    return { dir, fileId, previewId };
  }

  it('old messages are in the default channel, found by search, and can be edited, reacted to and replied to', () => {
    const { dir } = withFiles();
    const store = HistoryStore.open(dir);
    expect(store.channels()).toEqual([
      { id: 'room', name: 'general', topic: '', createdBy: null, createdAt: 1_100, archived: false },
    ]);
    expect(store.page(BOB.id, { channel: 'room' }, {}, 10).messages.map((m) => m.seq)).toEqual([1, 3, 4]);
    expect(
      store.search({ viewer: BOB.id, channels: true, query: 'hello', limit: 10 }).hits.map((h) => h.message.seq),
    ).toEqual([1]);
    expect(
      store.search({ viewer: ANN.id, channels: true, query: 'just', limit: 10 }).hits.map((h) => h.message.seq),
    ).toEqual([2]);
    expect(store.search({ viewer: GHOST.id, channels: true, query: 'just', limit: 10 }).hits).toEqual([]);
    expect(store.editMessage({ seq: 1, by: ANN.id, text: 'hello everyone', ts: 9_000 }).seq).toBe(5);
    expect(store.react({ seq: 2, by: ANN.id, emoji: '👋', on: true, ts: 9_001 })?.seq).toBe(6);
    const reply = store.append({ sender: BOB.id, recipient: null, text: 'hi', ts: 9_002, clientId: 'c3', replyTo: 1 });
    expect(reply.message).toMatchObject({ seq: 7, replyTo: { seq: 1, from: ANN.id, text: 'hello everyone' } });
    store.close();
    const again = HistoryStore.open(dir);
    expect(again.lastSeq).toBe(7);
    expect(
      again.search({ viewer: BOB.id, channels: true, query: 'everyone', limit: 10 }).hits.map((h) => h.message.seq),
    ).toEqual([1]);
    expect(again.page(BOB.id, 'all', { after: 3 }, 10, Infinity, { channels: true })).toMatchObject({
      messages: [{ seq: 4 }, { seq: 7 }],
      updates: [
        { kind: 'edit', seq: 5 },
        { kind: 'react', seq: 6 },
      ],
    });
    again.close();
  });

  it('deleting an old message with a file stops serving the file and its preview', () => {
    const { dir, fileId, previewId } = withFiles();
    const store = HistoryStore.open(dir);
    expect(store.findFile(fileId)).toMatchObject({ id: fileId });
    store.deleteMessage({ seq: 4, by: ANN.id, ts: 9_000 });
    expect(store.findFile(fileId)).toBeUndefined();
    expect(store.findFile(previewId)).toBeUndefined();
    store.close();
  });

  it('the search index is built from the old rows once, at the first open', () => {
    const dir = historyAt(4);
    HistoryStore.open(dir).close();
    expect(
      look(
        dir,
        (db) =>
          (db.prepare("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'see'").get() as { n: number })
            .n,
      ),
    ).toBe(1);
    expect(indexesOf(dir)).toContain('messages_channel');
  });
});

describe('version 5 to 6: direct-conversation partners (protocol v1.6)', () => {
  it('a large room finds who each member wrote to or heard from privately, through indexes only', () => {
    const dir = historyAt(5);
    const store = HistoryStore.open(dir);
    expect(store.schemaVersion).toBe(6);
    expect(store.partnersOf(ANN.id, 200)).toEqual([BOB.id]);
    expect(store.partnersOf(BOB.id, 200)).toEqual([ANN.id]);
    expect(store.partnersOf(GHOST.id, 200)).toEqual([]);
    store.append({ sender: GHOST.id, recipient: ANN.id, text: 'late hello', ts: 9_000, clientId: 'g1' });
    expect(store.partnersOf(ANN.id, 200).sort()).toEqual([BOB.id, GHOST.id].sort());
    expect(store.partnersOf(ANN.id, 1)).toHaveLength(1);
    store.close();
    expect(indexesOf(dir)).toContain('messages_sent_direct');
    const plans = look(dir, (db) =>
      [
        'SELECT DISTINCT recipient FROM messages WHERE sender = ? AND recipient IS NOT NULL',
        'SELECT DISTINCT sender FROM messages WHERE recipient = ?',
      ].map((sql) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('m_ann') as { detail: string }[])
          .map((row) => row.detail)
          .join(';'),
      ),
    );
    expect(plans[0]).toMatch(/USING COVERING INDEX messages_sent_direct/);
    expect(plans[1]).toMatch(/USING COVERING INDEX messages_direct/);
  });
});

describe('opening a history from a newer version', () => {
  /** A file as a later Beacon might leave it: one migration further, with a column this build knows nothing of. */
  function historyFromTheFuture(): string {
    const dir = historyAt(LATEST);
    const db = new DatabaseSync(file(dir));
    db.exec(`ALTER TABLE messages ADD COLUMN pinned_at INTEGER; PRAGMA user_version = ${LATEST + 1}`);
    db.close();
    return dir;
  }

  // An older Beacon writing into a schema it does not know could damage what the newer one stored.
  it('is refused with a clear error, and left untouched', () => {
    const dir = historyFromTheFuture();
    expect(() => HistoryStore.open(dir)).toThrow(
      expect.objectContaining({
        code: 'BEACON_ERR_STORE',
        message: expect.stringMatching(/newer/i),
      }),
    );
    expect(versionOf(dir)).toBe(LATEST + 1);
  });

  it('its version number is not lowered by opening it here', () => {
    const dir = historyFromTheFuture();
    try {
      HistoryStore.open(dir).close();
    } catch {
      // Refusing it is right too.
    }
    expect(versionOf(dir)).toBe(LATEST + 1);
  });
});
