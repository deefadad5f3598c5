import { type Hash, createHash } from 'node:crypto';
import type { AuditInput } from './audit-store.js';
import type { RoomKey } from './doc-store.js';

/** A logged update as compaction reads it back. */
export interface LoggedUpdate {
  readonly seq: number;
  /** Null for the server's own writes (decisions, lock state), which are not edits. */
  readonly userId: string | null;
  readonly createdAt: string;
  readonly data: Uint8Array;
}

/** One member's updates over a stretch of the log: the payload of an `edit` audit entry. */
export interface EditSummary {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly count: number;
  readonly bytes: number;
  readonly firstAt: string;
  readonly lastAt: string;
  /** SHA-256 (hex) over each update in seq order as a 4-byte big-endian length and its bytes. */
  readonly sha256: string;
}

export interface MemberEdits {
  readonly actor: string;
  readonly summary: EditSummary;
}

interface Run {
  first: LoggedUpdate;
  last: LoggedUpdate;
  count: number;
  bytes: number;
  readonly hash: Hash;
}

/**
 * Who changed the document, how much and when, per member, from updates in seq order (as the
 * log is read), in order of each member's first update. A drag is thirty updates a second; one entry per member per compacted stretch keeps
 * the audit chain readable and its growth independent of how fast boxes move (R-AUDIT-9).
 */
export function summariseEdits(updates: readonly LoggedUpdate[]): MemberEdits[] {
  const byActor = new Map<string, Run>();
  const length = Buffer.alloc(4);
  for (const update of updates) {
    if (update.userId === null) continue;
    let run = byActor.get(update.userId);
    if (!run) {
      run = { first: update, last: update, count: 0, bytes: 0, hash: createHash('sha256') };
      byActor.set(update.userId, run);
    }
    run.last = update;
    run.count += 1;
    run.bytes += update.data.byteLength;
    length.writeUInt32BE(update.data.byteLength);
    run.hash.update(length).update(update.data);
  }
  return [...byActor.entries()].map(([actor, run]) => ({
    actor,
    summary: {
      fromSeq: run.first.seq,
      toSeq: run.last.seq,
      count: run.count,
      bytes: run.bytes,
      firstAt: run.first.createdAt,
      lastAt: run.last.createdAt,
      sha256: run.hash.digest('hex'),
    },
  }));
}

/** The `edit` audit entries for a compacted stretch of a scan's log. */
export function editEntries(room: RoomKey, updates: readonly LoggedUpdate[]): AuditInput[] {
  return summariseEdits(updates).map(({ actor, summary }) => ({
    sessionId: room.sessionId,
    scanId: room.scanId,
    kind: 'edit',
    actor,
    payload: summary,
  }));
}
