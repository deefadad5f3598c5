import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditInput, AuditStore } from '../db/audit-store.js';
import type { AppendResult, DocStore, StoredUpdate } from '../db/doc-store.js';
import type { LiveTables } from '../db/live-tables.js';
import type { Database } from '../db/schema.js';
import type { UpdateSink } from './update-writer.js';

/**
 * Stores accepted updates and, in the same transaction, one `edit` entry per panel member's
 * update in the scan's hash-chained audit log (the update's sequence number, size and SHA-256),
 * so the audit trail and the document can never disagree.
 */
export function auditedSink(db: Kysely<Database>, docs: DocStore, audit: AuditStore): UpdateSink {
  return {
    append: (batch: readonly StoredUpdate[]) =>
      db.transaction().execute(async (tx) => {
        const results: AppendResult[] = await docs.append(batch, tx);
        const entries: AuditInput[] = [];
        batch.forEach((update, i) => {
          const seq = results[i];
          if (update.userId === null || typeof seq !== 'number') return;
          entries.push({
            sessionId: update.room.sessionId,
            scanId: update.room.scanId,
            kind: 'edit',
            actor: update.userId,
            payload: {
              seq,
              bytes: update.data.byteLength,
              sha256: createHash('sha256').update(update.data).digest('hex'),
            },
          });
        });
        if (entries.length > 0) await audit.appendIn(tx.withTables<LiveTables>(), entries);
        return results;
      }),
  };
}
