import type SQLite from 'better-sqlite3';
import type { AppendResult, StoredUpdate } from './doc-store.js';
import { roomKey } from './room-key.js';

/**
 * The update path's write on SQLite: one synchronous transaction per batch with statements
 * prepared once (building and preparing a query per update cost more than the write itself).
 * It does what DocStore.append does on PostgreSQL: refuse panel members' updates to locked
 * scans and store the rest with sender and time (compaction turns those into audit entries).
 * The transaction is IMMEDIATE: it takes the write lock before reading `locked`, so a lock
 * committed by another connection cannot slip in between.
 */
export function sqliteUpdateTransaction(
  db: SQLite.Database,
): (batch: readonly StoredUpdate[]) => AppendResult[] {
  const isLocked = db.prepare<[string, string], { locked: number }>(
    'SELECT locked FROM session_scans WHERE session_id = ? AND scan_id = ?',
  );
  const insertUpdate = db.prepare(
    'INSERT INTO doc_updates (room_key, session_id, scan_id, data, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );

  const run = db.transaction((batch: readonly StoredUpdate[]): AppendResult[] => {
    const createdAt = new Date().toISOString();
    const locked = new Map<string, boolean>();
    const results: AppendResult[] = [];
    for (const update of batch) {
      const { sessionId, scanId } = update.room;
      if (update.userId !== null) {
        const chain = `${sessionId}\u0000${scanId}`;
        let refused = locked.get(chain);
        if (refused === undefined) {
          refused = isLocked.get(sessionId, scanId)?.locked === 1;
          locked.set(chain, refused);
        }
        if (refused) {
          results.push('locked');
          continue;
        }
      }
      results.push(
        Number(
          insertUpdate.run(roomKey(update.room), sessionId, scanId, update.data, update.userId, createdAt)
            .lastInsertRowid,
        ),
      );
    }
    return results;
  });
  return (batch) => run.immediate(batch);
}

/**
 * The same write on the main thread, sharing Kysely's connection: for in-memory databases,
 * which a second connection cannot open (files go through the writer thread, sqlite-writer.ts).
 */
export function sqliteUpdateSink(db: SQLite.Database) {
  const run = sqliteUpdateTransaction(db);
  return {
    async append(batch: readonly StoredUpdate[]): Promise<AppendResult[]> {
      // Kysely shares this connection; its transactions await between statements. Starting ours
      // inside one would nest it (a savepoint) and tie our fate to theirs, so wait it out.
      while (db.inTransaction) await new Promise((resolve) => setImmediate(resolve));
      return run(batch);
    },
  };
}
