import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { DialectName } from './database.js';
import { roomKey } from './room-key.js';
import type { Database } from './schema.js';

/**
 * Schema migrations, in order. Column types differ only where the engines do (blobs and
 * auto-increment keys); everything else is portable.
 */
function migrations(dialect: DialectName): Record<string, Migration> {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('username', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('scans')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('rows', 'integer', (c) => c.notNull())
          .addColumn('columns', 'integer', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('moderator_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('session_readers')
          .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('position', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('session_readers_pk', ['session_id', 'user_id'])
          .execute();
        await db.schema
          .createTable('session_scans')
          .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
          .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id'))
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lock_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('session_scans_pk', ['session_id', 'scan_id'])
          .execute();
        const updates = db.schema.createTable('doc_updates');
        await (dialect === 'postgres'
          ? updates.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : updates.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        )
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('data', sql.raw(blob), (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('doc_updates_room')
          .on('doc_updates')
          .columns(['session_id', 'scan_id', 'seq'])
          .execute();
        await db.schema
          .createTable('doc_snapshots')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('data', sql.raw(blob), (c) => c.notNull())
          .addColumn('upto_seq', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('doc_snapshots_pk', ['session_id', 'scan_id'])
          .execute();
        await db.schema
          .createTable('consensus_records')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('record', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('locked_by', 'text', (c) => c.notNull())
          .addColumn('locked_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('consensus_records_pk', ['session_id', 'scan_id', 'version'])
          .execute();
      },
    },
    '0002_dicom': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('scan_files')
          .addColumn('scan_id', 'text', (c) => c.primaryKey().references('scans.id'))
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('content_sha256', 'text', (c) => c.notNull().unique())
          .addColumn('bytes', 'bigint', (c) => c.notNull())
          .addColumn('transfer_syntax_uid', 'text', (c) => c.notNull())
          .addColumn('bits_allocated', 'integer', (c) => c.notNull())
          .addColumn('bits_stored', 'integer', (c) => c.notNull())
          .addColumn('high_bit', 'integer', (c) => c.notNull())
          .addColumn('pixel_representation', 'integer', (c) => c.notNull())
          .addColumn('photometric', 'text', (c) => c.notNull())
          .addColumn('pixel_spacing', 'text')
          .addColumn('windows', 'text', (c) => c.notNull())
          .addColumn('lossy', 'integer', (c) => c.notNull())
          .addColumn('deid_profile', 'text', (c) => c.notNull())
          .addColumn('imported_by', 'text')
          .addColumn('imported_at', 'text', (c) => c.notNull())
          .execute();
        // A stored file may only be deleted when no row names it any more.
        await db.schema.createIndex('scan_files_sha256').on('scan_files').column('sha256').execute();
      },
    },
    '0003_live_panel': {
      async up(db: Kysely<unknown>) {
        // Hash-chained audit log per scan; `ref` names the vote an entry belongs to, so a vote's
        // tally can be rebuilt from the log when Redis lost it.
        await db.schema
          .createTable('audit_entries')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('ref', 'text')
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_entries_pk', ['session_id', 'scan_id', 'seq'])
          .execute();
        await db.schema.createIndex('audit_entries_ref').on('audit_entries').column('ref').execute();
        // One row per chain: appenders lock it (PostgreSQL FOR UPDATE) to serialise a chain.
        await db.schema
          .createTable('audit_heads')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_heads_pk', ['session_id', 'scan_id'])
          .execute();
        await db.schema
          .createTable('votes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('target_key', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('target_version', 'text', (c) => c.notNull())
          .addColumn('quorum', 'integer', (c) => c.notNull())
          .addColumn('opened_by', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('overridden', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('reason', 'text')
          .addColumn('closed_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('votes_scan')
          .on('votes')
          .columns(['session_id', 'scan_id', 'opened_at'])
          .execute();
        // At most one open vote per target: the database, not the app, settles two opens at once.
        await db.schema
          .createIndex('votes_one_open')
          .on('votes')
          .columns(['session_id', 'scan_id', 'target_key'])
          .unique()
          .where(sql.ref('state'), '=', 'open')
          .execute();
        await db.schema
          .createTable('session_quorums')
          .addColumn('session_id', 'text', (c) => c.primaryKey())
          .addColumn('quorum', 'integer', (c) => c.notNull())
          .execute();
      },
    },
    '0004_blind_stage': {
      async up(db: Kysely<unknown>) {
        const double = dialect === 'postgres' ? 'double precision' : 'real';
        await db.schema
          .alterTable('sessions')
          .addColumn('mode', 'text', (c) => c.notNull().defaultTo('live'))
          .execute();
        await db.schema
          .alterTable('sessions')
          .addColumn('stage', 'text', (c) => c.notNull().defaultTo('consensus'))
          .execute();
        await db.schema
          .alterTable('sessions')
          .addColumn('fusion_iou', sql.raw(double), (c) => c.notNull().defaultTo(0.4))
          .execute();
      },
    },
    '0005_room_key': {
      // SQLite only (R-STORE-8): the update log is indexed by a number per room instead of the
      // two text ids. PostgreSQL keeps its index.
      async up(db: Kysely<unknown>) {
        if (dialect !== 'sqlite') return;
        await db.schema
          .alterTable('doc_updates')
          .addColumn('room_key', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        const rooms = await sql<{ session_id: string; scan_id: string }>`
          select distinct session_id, scan_id from doc_updates`.execute(db);
        for (const r of rooms.rows) {
          const key = roomKey({ sessionId: r.session_id, scanId: r.scan_id });
          await sql`update doc_updates set room_key = ${key}
            where session_id = ${r.session_id} and scan_id = ${r.scan_id}`.execute(db);
        }
        await db.schema.dropIndex('doc_updates_room').execute();
        await db.schema
          .createIndex('doc_updates_room_key')
          .on('doc_updates')
          .columns(['room_key', 'seq'])
          .execute();
      },
    },
    '0006_archived_images': {
      // With IMAGE_STORE=dicomweb (R-IMG-*): the de-identified UIDs the archive files each stored
      // image under, so any node can retrieve it by WADO-RS from its hash.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('archived_images')
          .addColumn('sha256', 'text', (c) => c.primaryKey())
          .addColumn('study_uid', 'text', (c) => c.notNull())
          .addColumn('series_uid', 'text', (c) => c.notNull())
          .addColumn('sop_uid', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0007_pacs_imports': {
      // Import jobs from the PACS (R-PACS-*): the job, one row per instance it found, and the
      // original identity of each scan imported that way (kept for the SR push, R-PUSH-4;
      // readable by no API).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('pacs_imports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('created_by', 'text')
          .addColumn('session_id', 'text')
          .addColumn('study_uids', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('listed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .execute();
        await db.schema
          .createIndex('pacs_imports_due')
          .on('pacs_imports')
          .columns(['state', 'next_attempt_at'])
          .execute();
        await db.schema
          .createTable('pacs_import_items')
          .addColumn('job_id', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('study_uid', 'text', (c) => c.notNull())
          .addColumn('series_uid', 'text')
          .addColumn('sop_uid', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text')
          .addColumn('error_code', 'text')
          .addColumn('error_message', 'text')
          .addPrimaryKeyConstraint('pacs_import_items_pk', ['job_id', 'position'])
          .execute();
        await db.schema
          .createTable('pacs_origins')
          .addColumn('scan_id', 'text', (c) => c.primaryKey())
          .addColumn('study_uid', 'text', (c) => c.notNull())
          .addColumn('series_uid', 'text', (c) => c.notNull())
          .addColumn('sop_uid', 'text', (c) => c.notNull())
          .addColumn('sop_class_uid', 'text', (c) => c.notNull())
          .addColumn('patient', 'text', (c) => c.notNull())
          .addColumn('study', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0008_pacs_outbox': {
      // The SR push outbox (R-PUSH-*): one row per locked consensus version going to the PACS,
      // and the time pushing began, so locks made before a PACS was configured are never sent.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('pacs_outbox')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('sop_instance_uid', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .addPrimaryKeyConstraint('pacs_outbox_pk', ['session_id', 'scan_id', 'version'])
          .execute();
        await db.schema
          .createIndex('pacs_outbox_due')
          .on('pacs_outbox')
          .columns(['state', 'next_attempt_at'])
          .execute();
        await db.schema
          .createTable('pacs_outbox_meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0009_reading_analytics': {
      // Reading analytics (R-ANALYTICS-*): what readers' clients report about their own
      // reading, summed per (session, scan, reader), and the reveal's time and proposals.
      // Bounded by design: one row per reader x scan, per tool, per finding and action.
      async up(db: Kysely<unknown>) {
        const double = dialect === 'postgres' ? 'double precision' : 'real';
        await db.schema
          .createTable('analytics_batches')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('batch_id', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('analytics_batches_pk', ['session_id', 'user_id', 'batch_id'])
          .execute();
        await db.schema
          .createTable('analytics_reading')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('active_ms', 'bigint', (c) => c.notNull())
          .addColumn('first_opened_at', 'bigint')
          .addColumn('batches', 'integer', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('analytics_reading_pk', ['session_id', 'scan_id', 'user_id'])
          .execute();
        await db.schema
          .createTable('analytics_tools')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('tool', 'text', (c) => c.notNull())
          .addColumn('uses', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('analytics_tools_pk', ['session_id', 'scan_id', 'user_id', 'tool'])
          .execute();
        await db.schema
          .createTable('analytics_finding_views')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('finding_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('window_center', double, (c) => c.notNull())
          .addColumn('window_width', double, (c) => c.notNull())
          .addColumn('preset', 'text', (c) => c.notNull())
          .addColumn('zoom', double, (c) => c.notNull())
          .addColumn('invert', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('analytics_finding_views_pk', [
            'session_id',
            'scan_id',
            'user_id',
            'finding_id',
            'action',
          ])
          .execute();
        await db.schema
          .createTable('analytics_reveals')
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('scan_id', 'text', (c) => c.notNull())
          .addColumn('revealed_at', 'bigint', (c) => c.notNull())
          .addColumn('proposal_ids', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('analytics_reveals_pk', ['session_id', 'scan_id'])
          .execute();
      },
    },
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}
  async getMigrations() {
    return migrations(this.dialect);
  }
}

/**
 * Brings the schema to the latest migration, or only up to `upTo` (the upgrade tests start from
 * an older schema with data in it).
 */
export async function migrate(
  db: Kysely<Database>,
  dialect: DialectName,
  schema?: string,
  upTo?: string,
): Promise<void> {
  // With a schema, the migrator's own tables live there too; otherwise two schemas in one
  // database would see each other's migration state.
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
    // Migrations land from several branches at once (0008 before 0007): a database that already
    // ran a later one still takes an earlier one. Each touches only its own tables, so their
    // order between each other does not matter.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await (upTo ? migrator.migrateTo(upTo) : migrator.migrateToLatest());
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(
      `database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`,
    );
  }
}
