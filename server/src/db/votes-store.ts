import { type Target, TargetSchema } from '@cxr/shared';
import type { Kysely, Transaction } from 'kysely';
import { type LiveDatabase, type VotesTable, liveDb } from './live-tables.js';
import type { Database } from './schema.js';

/** A vote as the database keeps it: everything but the ballots (those are in the audit log). */
export interface VoteRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly scanId: string;
  readonly target: Target;
  readonly targetKey: string;
  readonly targetVersion: string;
  readonly quorum: number;
  readonly openedBy: string;
  readonly openedAt: number;
  readonly state: 'open' | 'closed' | 'void';
  readonly outcome: 'accepted' | 'rejected' | null;
  readonly overridden: boolean;
  readonly reason: string | null;
  readonly closedAt: number | null;
}

/** The fields of a vote that has not been closed or voided yet. */
export const STILL_OPEN = {
  state: 'open',
  outcome: null,
  overridden: false,
  reason: null,
  closedAt: null,
} as const satisfies Partial<VoteRecord>;

export interface VoteFinish {
  readonly state: 'closed' | 'void';
  readonly outcome: 'accepted' | 'rejected' | null;
  readonly overridden: boolean;
  readonly reason: string | null;
  readonly closedAt: number;
}

type Tx = Transaction<LiveDatabase>;

/**
 * The durable side of votes: which votes exist and their state. A unique partial index keeps at
 * most one open vote per target, so two moderators' tabs opening at once cannot both win.
 */
export class VotesStore {
  private readonly db: Kysely<LiveDatabase>;

  constructor(db: Kysely<Database>) {
    this.db = liveDb(db);
  }

  /** Inserts an open vote; false if the target already has an open vote. */
  async insertOpen(tx: Tx, vote: VoteRecord): Promise<boolean> {
    const result = await tx
      .insertInto('votes')
      .values({
        id: vote.id,
        session_id: vote.sessionId,
        scan_id: vote.scanId,
        target_key: vote.targetKey,
        target: JSON.stringify(vote.target),
        target_version: vote.targetVersion,
        quorum: vote.quorum,
        opened_by: vote.openedBy,
        opened_at: vote.openedAt,
        state: 'open',
        outcome: null,
        overridden: 0,
        reason: null,
        closed_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Moves an open vote to its final state; false if it was not open any more. */
  async finish(tx: Tx, id: string, finish: VoteFinish): Promise<boolean> {
    const result = await tx
      .updateTable('votes')
      .set({
        state: finish.state,
        outcome: finish.outcome,
        overridden: finish.overridden ? 1 : 0,
        reason: finish.reason,
        closed_at: finish.closedAt,
      })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async get(id: string): Promise<VoteRecord | undefined> {
    const row = await this.db.selectFrom('votes').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** A scan's votes, oldest first. */
  async forScan(sessionId: string, scanId: string): Promise<VoteRecord[]> {
    const rows = await this.db
      .selectFrom('votes')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('scan_id', '=', scanId)
      .orderBy('opened_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /** Every vote of a session, oldest first (the reading analytics read them in one go). */
  async forSession(sessionId: string): Promise<VoteRecord[]> {
    const rows = await this.db
      .selectFrom('votes')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('opened_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Every scan with an open vote, as `<sessionId>/<scanId>`: one read for all scans (the partial
   * index votes_one_open holds exactly the open votes).
   */
  async scansWithOpenVotes(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('votes')
      .select(['session_id', 'scan_id'])
      .distinct()
      .where('state', '=', 'open')
      .execute();
    return new Set(rows.map((r) => `${r.session_id}/${r.scan_id}`));
  }

  /** Open votes of a scan, optionally only those on the given target keys. */
  async openFor(sessionId: string, scanId: string, targetKeys?: readonly string[]): Promise<VoteRecord[]> {
    if (targetKeys && targetKeys.length === 0) return [];
    let query = this.db
      .selectFrom('votes')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('scan_id', '=', scanId)
      .where('state', '=', 'open');
    if (targetKeys) query = query.where('target_key', 'in', [...targetKeys]);
    return (await query.execute()).map(toRecord);
  }

  /** The session's quorum override, if any. */
  async quorum(sessionId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('session_quorums')
      .select('quorum')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row?.quorum;
  }

  async setQuorum(sessionId: string, quorum: number | null): Promise<void> {
    if (quorum === null) {
      await this.db.deleteFrom('session_quorums').where('session_id', '=', sessionId).execute();
      return;
    }
    await this.db
      .insertInto('session_quorums')
      .values({ session_id: sessionId, quorum })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ quorum }))
      .execute();
  }
}

function toRecord(row: VotesTable): VoteRecord {
  const target = TargetSchema.parse(JSON.parse(row.target));
  const state = row.state === 'closed' || row.state === 'void' ? row.state : 'open';
  const outcome = row.outcome === 'accepted' || row.outcome === 'rejected' ? row.outcome : null;
  return {
    id: row.id,
    sessionId: row.session_id,
    scanId: row.scan_id,
    target,
    targetKey: row.target_key,
    targetVersion: row.target_version,
    quorum: Number(row.quorum),
    openedBy: row.opened_by,
    openedAt: Number(row.opened_at),
    state,
    outcome,
    overridden: row.overridden === 1,
    reason: row.reason,
    closedAt: row.closed_at === null ? null : Number(row.closed_at),
  };
}
