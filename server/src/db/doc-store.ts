import { type Kysely, type Transaction, sql } from 'kysely';
import * as Y from 'yjs';
import type { AuditStore } from './audit-store.js';
import type { DialectName } from './database.js';
import { type LoggedUpdate, editEntries, summariseEdits } from './edit-summary.js';
import type { LiveTables } from './live-tables.js';
import { roomKey } from './room-key.js';
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

/**
 * Scan documents as a snapshot plus an append-only log of accepted updates, each with its
 * sender and time. Compaction folds the log into the snapshot and, in the same transaction,
 * turns who sent what into `edit` entries of the scan's audit chain, so that record outlives
 * the rows it came from (R-AUDIT-9).
 */
export class DocStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    private readonly audit: AuditStore,
  ) {}

  async load(room: RoomKey): Promise<LoadedDoc> {
    const snapshot = await this.db
      .selectFrom('doc_snapshots')
      .select(['data', 'upto_seq'])
      .where('session_id', '=', room.sessionId)
      .where('scan_id', '=', room.scanId)
      .executeTakeFirst();
    const uptoSeq = snapshot ? Number(snapshot.upto_seq) : 0;
    const rows = await loggedSince(this.db, this.dialect, room, uptoSeq);
    return {
      snapshot: snapshot ? new Uint8Array(snapshot.data) : undefined,
      updates: rows.map((r) => r.data),
      lastSeq: rows.length > 0 ? rows[rows.length - 1]!.seq : uptoSeq,
      logLength: rows.length,
    };
  }

  /**
   * Appends a batch of updates in one transaction, in order. Each gets its sequence number, or
   * `locked` when it comes from a panel member (userId set) and its scan is locked by then: the
   * database, not a node's memory, is what finally refuses edits after a lock, so two nodes
   * cannot both believe they won. All or nothing: on failure none is stored.
   */
  async append(batch: readonly StoredUpdate[], executor?: Kysely<Database>): Promise<AppendResult[]> {
    if (batch.length === 0) return [];
    const createdAt = new Date().toISOString();
    const run = async (tx: Kysely<Database>) => {
      const locked = await this.lockedRooms(
        tx,
        batch.filter((u) => u.userId !== null).map((u) => u.room),
      );
      const kept = batch.filter((u) => u.userId === null || !locked.has(roomName(u.room)));
      // One multi-row INSERT: PostgreSQL and SQLite return RETURNING rows in VALUES order for a
      // plain INSERT ... VALUES, and a round trip per update is what made batches slow.
      const rows =
        kept.length === 0
          ? []
          : await tx
              .insertInto('doc_updates')
              .values(
                kept.map((u) => ({
                  ...(this.dialect === 'sqlite' ? { room_key: roomKey(u.room) } : {}),
                  session_id: u.room.sessionId,
                  scan_id: u.room.scanId,
                  data: u.data,
                  user_id: u.userId,
                  created_at: createdAt,
                })),
              )
              .returning('seq')
              .execute();
      let next = 0;
      return batch.map((u): AppendResult => {
        if (u.userId !== null && locked.has(roomName(u.room))) return 'locked';
        const row = rows[next++];
        if (!row) throw new Error('insert returned fewer rows than values');
        return Number(row.seq);
      });
    };
    return executor ? run(executor) : this.db.transaction().execute(run);
  }

  /**
   * Folds the stored log into the snapshot: everything stored so far (by any node) is merged
   * from the database itself, so what a node holds in memory does not matter. Serialised per
   * document (PostgreSQL advisory lock; SQLite has one writer).
   */
  async compact(room: RoomKey): Promise<{ compacted: number }> {
    return this.db.transaction().execute(async (tx) => {
      if (this.dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext(${`${room.sessionId}/${room.scanId}`}))`.execute(tx);
      }
      const snapshot = await tx
        .selectFrom('doc_snapshots')
        .select(['data', 'upto_seq'])
        .where('session_id', '=', room.sessionId)
        .where('scan_id', '=', room.scanId)
        .executeTakeFirst();
      const rows = await loggedSince(tx, this.dialect, room, snapshot ? Number(snapshot.upto_seq) : 0);
      if (rows.length === 0) return { compacted: 0 };
      const parts = rows.map((r) => r.data);
      if (snapshot) parts.unshift(new Uint8Array(snapshot.data));
      await this.auditEdits(tx, room, rows);
      await replaceLog(tx, this.dialect, room, collectedState(parts), rows[rows.length - 1]!.seq);
      return { compacted: rows.length };
    });
  }

  /**
   * Replaces the log up to `uptoSeq` by `state`, which the caller guarantees holds exactly the
   * updates up to it (a single node, nothing in flight): nothing to merge; the rows are read
   * only for their senders and digests (the audit entries).
   */
  async compactWith(room: RoomKey, state: Uint8Array, uptoSeq: number): Promise<{ compacted: number }> {
    return this.db.transaction().execute(async (tx) => {
      const from = await snapshotUpto(tx, room);
      // A compaction that merged from the log (a lock) may have got further meanwhile: this
      // older state must not replace it, or the updates between would be lost.
      if (from >= uptoSeq) return { compacted: 0 };
      const rows = (await loggedSince(tx, this.dialect, room, from)).filter((r) => r.seq <= uptoSeq);
      await this.auditEdits(tx, room, rows);
      await replaceLog(tx, this.dialect, room, state, uptoSeq);
      return { compacted: rows.length };
    });
  }

  /** Members' updates still in the log (not yet compacted into the audit chain), per member. */
  async pendingEdits(room: RoomKey) {
    return summariseEdits(await loggedSince(this.db, this.dialect, room, await snapshotUpto(this.db, room)));
  }

  private async auditEdits(tx: Transaction<Database>, room: RoomKey, rows: readonly LoggedUpdate[]) {
    const entries = editEntries(room, rows);
    if (entries.length > 0) await this.audit.appendIn(tx.withTables<LiveTables>(), entries);
  }

  /** Which of these scans are locked (PostgreSQL: `FOR SHARE`, serialised with the lock's UPDATE). */
  private async lockedRooms(tx: Kysely<Database>, rooms: readonly RoomKey[]): Promise<Set<string>> {
    const distinct = [...new Map(rooms.map((r) => [roomName(r), r])).values()];
    if (distinct.length === 0) return new Set();
    let query = tx
      .selectFrom('session_scans')
      .select(['session_id', 'scan_id'])
      .where('locked', '=', 1)
      .where((eb) =>
        eb.or(
          distinct.map((r) => eb.and([eb('session_id', '=', r.sessionId), eb('scan_id', '=', r.scanId)])),
        ),
      );
    if (this.dialect === 'postgres') query = query.orderBy('session_id').orderBy('scan_id').forShare();
    const rows = await query.execute();
    return new Set(rows.map((r) => roomName({ sessionId: r.session_id, scanId: r.scan_id })));
  }
}

/**
 * The state of a document made of these updates, with deleted content dropped as a live
 * document drops it. Merging the updates alone (Y.mergeUpdates) keeps every overwritten value:
 * a box dragged for a minute left 1,800 old copies of itself in the snapshot, which grew by
 * megabytes an hour per room and had to be read back on every load.
 */
function collectedState(parts: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, Y.mergeUpdates([...parts]));
    return Y.encodeStateAsUpdate(doc);
  } finally {
    doc.destroy();
  }
}

/** The last sequence number the snapshot holds (0 without one). */
async function snapshotUpto(db: Kysely<Database>, room: RoomKey): Promise<number> {
  const snapshot = await db
    .selectFrom('doc_snapshots')
    .select('upto_seq')
    .where('session_id', '=', room.sessionId)
    .where('scan_id', '=', room.scanId)
    .executeTakeFirst();
  return snapshot ? Number(snapshot.upto_seq) : 0;
}

/** The log after `afterSeq`, in order, with senders and times. */
async function loggedSince(
  db: Kysely<Database>,
  dialect: DialectName,
  room: RoomKey,
  afterSeq: number,
): Promise<LoggedUpdate[]> {
  const rows = await db
    .selectFrom('doc_updates')
    .select(['seq', 'data', 'user_id', 'created_at'])
    .$if(dialect === 'sqlite', (q) => q.where('room_key', '=', roomKey(room)))
    .where('session_id', '=', room.sessionId)
    .where('scan_id', '=', room.scanId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    userId: r.user_id,
    createdAt: r.created_at,
    data: new Uint8Array(r.data),
  }));
}

/** Inside a transaction: `state` becomes the snapshot and the log up to `uptoSeq` goes. */
async function replaceLog(
  tx: Kysely<Database>,
  dialect: DialectName,
  room: RoomKey,
  state: Uint8Array,
  uptoSeq: number,
): Promise<void> {
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
      updated_at: new Date().toISOString(),
    })
    .execute();
  await tx
    .deleteFrom('doc_updates')
    .$if(dialect === 'sqlite', (q) => q.where('room_key', '=', roomKey(room)))
    .where('session_id', '=', room.sessionId)
    .where('scan_id', '=', room.scanId)
    .where('seq', '<=', uptoSeq)
    .execute();
}

function roomName(room: RoomKey): string {
  return `${room.sessionId}/${room.scanId}`;
}

/** A stored update's sequence number, or why it was not stored. */
export type AppendResult = number | 'locked';
