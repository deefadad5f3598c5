import type { Kysely } from 'kysely';
import type { DocStore, RoomKey } from './doc-store.js';
import type { Database } from './schema.js';

export interface StoredConsensus {
  readonly version: number;
  readonly record: string;
  readonly sha256: string;
  readonly lockedBy: string;
  readonly lockedAt: string;
}

export class ConsensusStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly docs: DocStore,
  ) {}

  /**
   * The lock as one durable state change: the server's meta update, the immutable record and
   * the scan's lock flag commit together or not at all. Fails if another lock won the race.
   */
  async lock(
    room: RoomKey,
    input: {
      version: number;
      record: string;
      sha256: string;
      lockedBy: string;
      lockedAt: string;
      metaUpdate: Uint8Array;
    },
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('session_scans')
        .set({ locked: 1, lock_version: input.version })
        .where('session_id', '=', room.sessionId)
        .where('scan_id', '=', room.scanId)
        .where('locked', '=', 0)
        .where('lock_version', '=', input.version - 1)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await tx
        .insertInto('consensus_records')
        .values({
          session_id: room.sessionId,
          scan_id: room.scanId,
          version: input.version,
          record: input.record,
          sha256: input.sha256,
          locked_by: input.lockedBy,
          locked_at: input.lockedAt,
        })
        .execute();
      await this.docs.append([{ room, data: input.metaUpdate, userId: null }], tx);
      return true;
    });
  }

  /**
   * Reopens a locked scan: the lock flag drops, the document's meta update is stored, and every
   * record stays (the next lock writes version + 1). Fails if the scan is not locked at `version`.
   */
  async unlock(room: RoomKey, input: { version: number; metaUpdate: Uint8Array }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('session_scans')
        .set({ locked: 0 })
        .where('session_id', '=', room.sessionId)
        .where('scan_id', '=', room.scanId)
        .where('locked', '=', 1)
        .where('lock_version', '=', input.version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await this.docs.append([{ room, data: input.metaUpdate, userId: null }], tx);
      return true;
    });
  }

  async all(room: RoomKey): Promise<StoredConsensus[]> {
    const rows = await this.db
      .selectFrom('consensus_records')
      .selectAll()
      .where('session_id', '=', room.sessionId)
      .where('scan_id', '=', room.scanId)
      .orderBy('version')
      .execute();
    return rows.map((row) => ({
      version: row.version,
      record: row.record,
      sha256: row.sha256,
      lockedBy: row.locked_by,
      lockedAt: row.locked_at,
    }));
  }

  async latest(room: RoomKey): Promise<StoredConsensus | undefined> {
    const row = await this.db
      .selectFrom('consensus_records')
      .selectAll()
      .where('session_id', '=', room.sessionId)
      .where('scan_id', '=', room.scanId)
      .orderBy('version', 'desc')
      .executeTakeFirst();
    return (
      row && {
        version: row.version,
        record: row.record,
        sha256: row.sha256,
        lockedBy: row.locked_by,
        lockedAt: row.locked_at,
      }
    );
  }
}
