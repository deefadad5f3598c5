import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { GENESIS_HASH, auditHash } from './audit-store.js';
import type { AppendResult, StoredUpdate } from './doc-store.js';

/**
 * The update path's write on SQLite: one synchronous transaction per batch with statements
 * prepared once (building and preparing a query per update cost more than the write itself).
 * It does what DocStore.append and the audited sink do on PostgreSQL: refuse panel members'
 * updates to locked scans, store the rest, and chain one `edit` audit entry per stored update.
 * The transaction is IMMEDIATE: it takes the write lock before reading `locked` and the audit
 * head, so a lock or an audit entry committed by another connection cannot slip in between.
 */
export function sqliteUpdateTransaction(
  db: SQLite.Database,
): (batch: readonly StoredUpdate[]) => AppendResult[] {
  const isLocked = db.prepare<[string, string], { locked: number }>(
    'SELECT locked FROM session_scans WHERE session_id = ? AND scan_id = ?',
  );
  const insertUpdate = db.prepare(
    'INSERT INTO doc_updates (session_id, scan_id, data, user_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const ensureHead = db.prepare(
    'INSERT OR IGNORE INTO audit_heads (session_id, scan_id, seq, hash) VALUES (?, ?, 0, ?)',
  );
  const readHead = db.prepare<[string, string], { seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_heads WHERE session_id = ? AND scan_id = ?',
  );
  const writeHead = db.prepare(
    'UPDATE audit_heads SET seq = ?, hash = ? WHERE session_id = ? AND scan_id = ?',
  );
  const insertEntry = db.prepare(
    'INSERT INTO audit_entries (session_id, scan_id, seq, kind, actor, at, payload, ref, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
  );

  const run = db.transaction((batch: readonly StoredUpdate[]): AppendResult[] => {
    const createdAt = new Date().toISOString();
    const locked = new Map<string, boolean>();
    const heads = new Map<string, { seq: number; hash: string }>();
    const results: AppendResult[] = [];
    for (const update of batch) {
      const { sessionId, scanId } = update.room;
      const chain = `${sessionId}\u0000${scanId}`;
      if (update.userId !== null) {
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
      const seq = Number(
        insertUpdate.run(sessionId, scanId, update.data, update.userId, createdAt).lastInsertRowid,
      );
      results.push(seq);
      if (update.userId === null) continue;
      let head = heads.get(chain);
      if (!head) {
        ensureHead.run(sessionId, scanId, GENESIS_HASH);
        head = readHead.get(sessionId, scanId) ?? { seq: 0, hash: GENESIS_HASH };
      }
      const payload = {
        bytes: update.data.byteLength,
        seq,
        sha256: createHash('sha256').update(update.data).digest('hex'),
      };
      const entry = {
        seq: head.seq + 1,
        kind: 'edit',
        actor: update.userId,
        at: createdAt,
        payload,
        prevHash: head.hash,
      };
      const hash = auditHash(entry);
      insertEntry.run(
        sessionId,
        scanId,
        entry.seq,
        'edit',
        update.userId,
        createdAt,
        canonicalize(payload),
        head.hash,
        hash,
      );
      heads.set(chain, { seq: entry.seq, hash });
    }
    for (const [chain, head] of heads) {
      const [sessionId, scanId] = chain.split('\u0000');
      writeHead.run(head.seq, head.hash, sessionId, scanId);
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
