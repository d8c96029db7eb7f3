/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction;
 * `PRAGMA user_version` records how far a database has come. Never edit a
 * migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: messages and members
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
  // 2: room settings (name), kept with the history so a restarted host keeps them
  `CREATE TABLE room (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 3: when each identity was last seen, so identities nobody uses any more can be pruned.
  // The index lets pruning and the start-up reservation of names read only the
  // stale (or recent) members instead of every one; the per-member "wrote or
  // received anything?" checks use the (sender, client_id) unique index and
  // messages_direct (recipient, ...), so no new message index is needed.
  `ALTER TABLE members ADD COLUMN last_seen INTEGER;
   UPDATE members SET last_seen = joined_at;
   CREATE INDEX members_last_seen ON members (last_seen);`,
  // 4: files (protocol v1.4). A row exists only for a finished, whole, hashed file: an upload in
  // progress lives in the tus folder, never here. `conversation` is 'room' or the other member's
  // id; `media_type` is set only for an image type the host recognised from the bytes. A message's
  // files are kept on the message as the FileRef JSON it was sent with (NULL for text), so a page
  // of text reads exactly what it read before and a page with files needs no join.
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
  // 5: conversations (protocol v1.5). `channels` holds every channel, the default one ('room')
  // included, so renaming it is like renaming any other; a message's `channel` is NULL for the
  // default channel and for direct messages, so every row from before stays where it was. A
  // message is edited and deleted in place (`deleted` empties its text and files; the row and its
  // seq stay so replies and resumes keep their place). Every change after a message is made is a
  // row of `updates`, numbered from the same sequence as messages (the store allocates both), and
  // carries the sender, recipient and channel of what it changed, so a page reads the updates a
  // viewer may see with the very filter it reads messages with. `message_files` says which
  // messages carry a file, so deleting one message withdraws a file no other message still
  // carries. The full-text index is not here: it needs FTS5, which a SQLite may lack, and it is
  // derived data, built by the store when it opens (search-index.ts).
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
  // 6: large rooms (protocol v1.6). A member's direct-conversation partners are those it wrote to
  // and those who wrote to it: messages_direct (recipient, sender, ...) answers the second, and this
  // index the first, so each is a DISTINCT over an index instead of a scan of every message.
  `CREATE INDEX messages_sent_direct ON messages (sender, recipient) WHERE recipient IS NOT NULL;`,
];
