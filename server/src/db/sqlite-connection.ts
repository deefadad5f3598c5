import SQLite from 'better-sqlite3';

/**
 * Opens a connection to the service's SQLite file with the settings every connection needs:
 * the main one (Kysely) and the update writer's thread each hold one.
 */
export function openSqliteConnection(file: string): SQLite.Database {
  const sqlite = new SQLite(file);
  // WAL + NORMAL survives a killed process (not a power cut) with far cheaper commits than FULL.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Two connections write: each waits for the other's (short) transaction instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoints run in their own thread (checkpointer.ts), never inside a commit.
  if (file !== ':memory:') sqlite.pragma('wal_autocheckpoint = 0');
  return sqlite;
}
