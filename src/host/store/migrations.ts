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
];
