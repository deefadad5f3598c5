import { AnalyticsStore } from './analytics-store.js';
import { AuditStore } from './audit-store.js';
import { ConsensusStore } from './consensus-store.js';
import { type Db, type DbOptions, openDb } from './database.js';
import { DocStore } from './doc-store.js';
import { migrate } from './migrations.js';
import { PacsImportsStore } from './pacs-imports-store.js';
import { PacsOriginsStore } from './pacs-origins-store.js';
import { PacsOutboxStore } from './pacs-outbox-store.js';
import { ScanFilesStore } from './scan-files-store.js';
import { ScansStore } from './scans-store.js';
import { SessionsStore } from './sessions-store.js';
import { UsersStore } from './users-store.js';

/** Every store over one database connection, migrated and ready. */
export interface Stores {
  readonly db: Db;
  readonly users: UsersStore;
  readonly scans: ScansStore;
  /** De-identified DICOM files behind scans (metadata; the bytes live under the data directory). */
  readonly scanFiles: ScanFilesStore;
  readonly sessions: SessionsStore;
  readonly docs: DocStore;
  readonly consensus: ConsensusStore;
  /** Each scan's hash-chained audit log (edits, votes, decisions, locks). */
  readonly audit: AuditStore;
  /** Locked consensus versions whose DICOM SR goes to the PACS (R-PUSH-*). */
  readonly pacsOutbox: PacsOutboxStore;
  /** Import jobs from the PACS and their instances (R-PACS-*). */
  readonly pacsImports: PacsImportsStore;
  /** Original identities of scans imported from the PACS; read only by the SR push. */
  readonly pacsOrigins: PacsOriginsStore;
  /** Readers' own capture (time, tools, views per finding) and the reveals (R-ANALYTICS-*). */
  readonly analytics: AnalyticsStore;
}

export async function openStores(options: DbOptions): Promise<Stores> {
  const db = await openDb(options);
  try {
    await migrate(db.kysely, db.dialect, options.databaseUrl ? options.pgSchema : undefined);
  } catch (error) {
    await db.close();
    throw error;
  }
  const audit = new AuditStore(db.kysely, db.dialect);
  const docs = new DocStore(db.kysely, db.dialect, audit);
  return {
    db,
    users: new UsersStore(db.kysely),
    scans: new ScansStore(db.kysely),
    scanFiles: new ScanFilesStore(db.kysely),
    sessions: new SessionsStore(db.kysely),
    docs,
    consensus: new ConsensusStore(db.kysely, docs),
    audit,
    pacsOutbox: new PacsOutboxStore(db.kysely),
    pacsImports: new PacsImportsStore(db.kysely),
    pacsOrigins: new PacsOriginsStore(db.kysely),
    analytics: new AnalyticsStore(db.kysely),
  };
}
