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
];
