import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface RoomKey {
  readonly sessionId: string;
  readonly scanId: string;
}

export interface StoredUpdate {
  readonly room: RoomKey;
  readonly data: Uint8Array;
  /** The sender; null for the server's own writes (decisions, lock state). */
  readonly userId: string | null;
}

export interface LoadedDoc {
  readonly snapshot: Uint8Array | undefined;
  readonly updates: Uint8Array[];
  readonly lastSeq: number;
  /** Updates logged since the snapshot: the compaction trigger. */
  readonly logLength: number;
}

/** Scan documents as a snapshot plus an append-only log of accepted updates. */
export class DocStore {
  constructor(private readonly db: Kysely<Database>) {}

  async load(room: RoomKey): Promise<LoadedDoc> {
    const snapshot = await this.db
      .selectFrom('doc_snapshots')
      .select(['data', 'upto_seq'])
      .where('session_id', '=', room.sessionId)
      .where('scan_id', '=', room.scanId)
      .executeTakeFirst();
    const uptoSeq = snapshot ? Number(snapshot.upto_seq) : 0;
    const rows = await this.db
      .selectFrom('doc_updates')
      .select(['seq', 'data'])
      .where('session_id', '=', room.sessionId)
      .where('scan_id', '=', room.scanId)
      .where('seq', '>', uptoSeq)
      .orderBy('seq')
      .execute();
    return {
      snapshot: snapshot ? new Uint8Array(snapshot.data) : undefined,
      updates: rows.map((r) => new Uint8Array(r.data)),
      lastSeq: rows.length > 0 ? Number(rows[rows.length - 1]!.seq) : uptoSeq,
      logLength: rows.length,
    };
  }

  /**
   * Appends a batch of updates in one transaction, in order; returns each one's sequence
   * number. All or nothing: on failure none is stored.
   */
  async append(batch: readonly StoredUpdate[], executor: Kysely<Database> = this.db): Promise<number[]> {
    if (batch.length === 0) return [];
    const createdAt = new Date().toISOString();
    const run = async (tx: Kysely<Database>) => {
      const seqs: number[] = [];
      // One INSERT per update keeps the returned sequence numbers in batch order on both engines.
      for (const u of batch) {
        const row = await tx
          .insertInto('doc_updates')
          .values({
            session_id: u.room.sessionId,
            scan_id: u.room.scanId,
            data: u.data,
            user_id: u.userId,
            created_at: createdAt,
          })
          .returning('seq')
          .executeTakeFirstOrThrow();
        seqs.push(Number(row.seq));
      }
      return seqs;
    };
    return executor === this.db ? this.db.transaction().execute(run) : run(executor);
  }

  /**
   * Replaces every logged update up to `uptoSeq` by one merged state. The state must include
   * exactly those updates (the caller takes it when nothing newer is pending).
   */
  async compact(room: RoomKey, state: Uint8Array, uptoSeq: number): Promise<void> {
    const updatedAt = new Date().toISOString();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('doc_snapshots')
        .where('session_id', '=', room.sessionId)
        .where('scan_id', '=', room.scanId)
        .execute();
      await tx
        .insertInto('doc_snapshots')
        .values({
          session_id: room.sessionId,
          scan_id: room.scanId,
          data: state,
          upto_seq: uptoSeq,
          updated_at: updatedAt,
        })
        .execute();
      await tx
        .deleteFrom('doc_updates')
        .where('session_id', '=', room.sessionId)
        .where('scan_id', '=', room.scanId)
        .where('seq', '<=', uptoSeq)
        .execute();
    });
  }
}
