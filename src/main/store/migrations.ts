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
];
