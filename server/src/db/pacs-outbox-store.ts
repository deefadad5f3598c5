import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** One locked consensus version whose SR goes to the PACS. */
export interface OutboxKey {
  readonly sessionId: string;
  readonly scanId: string;
  readonly version: number;
}

export type PushState = 'pending' | 'sent' | 'failed';

export interface OutboxRow extends OutboxKey {
  readonly state: PushState;
  /** STOW-RS requests that got an answer or failed (a node dying mid-request counts none). */
  readonly attempts: number;
  readonly lastError: string | null;
  /** Epoch ms: when a pending row is due. */
  readonly nextAttemptAt: number;
  readonly sopInstanceUid: string | null;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

/** A row this node leased for one attempt. */
export interface ClaimedRow extends OutboxKey {
  readonly attempts: number;
}

const PUSH_SINCE = 'push-since';

const STATES: readonly PushState[] = ['pending', 'sent', 'failed'];
function pushState(value: string): PushState {
  const state = STATES.find((s) => s === value);
  if (!state) throw new Error(`pacs_outbox holds an unknown state ${JSON.stringify(value)}`);
  return state;
}

/**
 * The durable SR push outbox (R-PUSH-*): a row per (session, scan, lock version), written after
 * the lock commits and found again by `reconcile` when the process died before writing it.
 * Rows move `pending` -> `sent` (for good) or `failed` (until an admin re-pushes). A node sends
 * a row only while it holds the row's lease, taken with a compare-and-set, so two nodes never
 * send the same row at once.
 */
export class PacsOutboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * When pushing began: set by the first start with a PACS configured and never moved, so locks
   * made before it are never sent and every lock after it is (R-PUSH-2).
   */
  async markPushSince(now: Date): Promise<string> {
    await this.db
      .insertInto('pacs_outbox_meta')
      .values({ key: PUSH_SINCE, value: now.toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const since = await this.pushSince();
    if (!since) throw new Error('pacs_outbox_meta lost its push-since row');
    return since;
  }

  async pushSince(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('pacs_outbox_meta')
      .select('value')
      .where('key', '=', PUSH_SINCE)
      .executeTakeFirst();
    return row?.value;
  }

  /** Queues a locked version (due at once); false when it is queued already. */
  async enqueue(key: OutboxKey, nowMs: number): Promise<boolean> {
    const result = await this.db
      .insertInto('pacs_outbox')
      .values(newRow(key, nowMs))
      .onConflict((oc) => oc.columns(['session_id', 'scan_id', 'version']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /**
   * Queues every scan locked now whose current record was locked at or after `push-since` and
   * has no row: the locks whose enqueue a crash (or a node without PACS_URL) left out.
   */
  async reconcile(nowMs: number): Promise<OutboxKey[]> {
    const since = await this.pushSince();
    if (!since) return [];
    const missing = await this.db
      .selectFrom('session_scans as s')
      .innerJoin('consensus_records as c', (j) =>
        j
          .onRef('c.session_id', '=', 's.session_id')
          .onRef('c.scan_id', '=', 's.scan_id')
          .onRef('c.version', '=', 's.lock_version'),
      )
      .leftJoin('pacs_outbox as o', (j) =>
        j
          .onRef('o.session_id', '=', 'c.session_id')
          .onRef('o.scan_id', '=', 'c.scan_id')
          .onRef('o.version', '=', 'c.version'),
      )
      .select(['c.session_id', 'c.scan_id', 'c.version'])
      .where('s.locked', '=', 1)
      // ISO-8601 UTC text of one length: text order is time order.
      .where('c.locked_at', '>=', since)
      .where('o.session_id', 'is', null)
      .execute();
    const queued: OutboxKey[] = [];
    for (const row of missing) {
      const key = { sessionId: row.session_id, scanId: row.scan_id, version: Number(row.version) };
      if (await this.enqueue(key, nowMs)) queued.push(key);
    }
    return queued;
  }

  async get(key: OutboxKey): Promise<OutboxRow | undefined> {
    const row = await this.db
      .selectFrom('pacs_outbox')
      .selectAll()
      .where('session_id', '=', key.sessionId)
      .where('scan_id', '=', key.scanId)
      .where('version', '=', key.version)
      .executeTakeFirst();
    return (
      row && {
        sessionId: row.session_id,
        scanId: row.scan_id,
        version: Number(row.version),
        state: pushState(row.state),
        attempts: Number(row.attempts),
        lastError: row.last_error,
        nextAttemptAt: Number(row.next_attempt_at),
        sopInstanceUid: row.sop_instance_uid,
        createdAt: row.created_at,
        sentAt: row.sent_at,
      }
    );
  }

  /**
   * Leases up to `limit` due pending rows to `owner` until `nowMs + leaseMs`. Each row is taken
   * with a conditional update, so of two nodes claiming at once exactly one gets it.
   */
  async claimDue(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<ClaimedRow[]> {
    const due = await this.db
      .selectFrom('pacs_outbox')
      .select(['session_id', 'scan_id', 'version', 'attempts'])
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', nowMs)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    const claimed: ClaimedRow[] = [];
    for (const row of due) {
      const result = await this.db
        .updateTable('pacs_outbox')
        .set({ lease_owner: owner, lease_until: nowMs + leaseMs })
        .where('session_id', '=', row.session_id)
        .where('scan_id', '=', row.scan_id)
        .where('version', '=', row.version)
        .where('state', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        claimed.push({
          sessionId: row.session_id,
          scanId: row.scan_id,
          version: Number(row.version),
          attempts: Number(row.attempts),
        });
      }
    }
    return claimed;
  }

  /**
   * The PACS acknowledged the instance: `sent` for good. Recorded whoever holds the lease (it is
   * in the PACS either way); a row already sent keeps its first time.
   */
  async markSent(key: OutboxKey, sopInstanceUid: string, now: Date): Promise<void> {
    await this.db
      .updateTable('pacs_outbox')
      .set((eb) => ({
        state: 'sent',
        attempts: eb('attempts', '+', 1),
        last_error: null,
        sop_instance_uid: sopInstanceUid,
        sent_at: now.toISOString(),
        lease_owner: null,
        lease_until: null,
      }))
      .where('session_id', '=', key.sessionId)
      .where('scan_id', '=', key.scanId)
      .where('version', '=', key.version)
      .where('state', '!=', 'sent')
      .execute();
  }

  /** The attempt failed for now (the PACS is unavailable): due again at `nextAttemptAt`. */
  async markRetry(key: OutboxKey, owner: string, error: string, nextAttemptAt: number): Promise<void> {
    await this.finishAttempt(key, owner, {
      state: 'pending',
      last_error: error,
      next_attempt_at: nextAttemptAt,
    });
  }

  /** The PACS refused the instance: `failed` with its reason, until an admin re-pushes. */
  async markFailed(key: OutboxKey, owner: string, error: string): Promise<void> {
    await this.finishAttempt(key, owner, { state: 'failed', last_error: error });
  }

  /**
   * An admin's re-push: a failed or pending row is due now (attempts kept); a locked version
   * with no row gets one. Answers the row as it is then (`sent` rows are left alone).
   */
  async requeue(key: OutboxKey, nowMs: number): Promise<OutboxRow> {
    await this.enqueue(key, nowMs);
    await this.db
      .updateTable('pacs_outbox')
      .set({ state: 'pending', next_attempt_at: nowMs })
      .where('session_id', '=', key.sessionId)
      .where('scan_id', '=', key.scanId)
      .where('version', '=', key.version)
      .where('state', '!=', 'sent')
      .execute();
    const row = await this.get(key);
    if (!row) throw new Error('an outbox row vanished while it was re-queued');
    return row;
  }

  /**
   * When the earliest pending row can next be claimed (epoch ms), if there is one: its due time,
   * or the end of the lease another node holds on it.
   */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('pacs_outbox')
      .select((eb) =>
        eb.fn
          .min(
            eb
              .case()
              .when(
                eb.and([
                  eb('lease_until', 'is not', null),
                  eb('lease_until', '>', eb.ref('next_attempt_at')),
                ]),
              )
              .then(eb.ref('lease_until'))
              .else(eb.ref('next_attempt_at'))
              .end(),
          )
          .as('due'),
      )
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  private async finishAttempt(
    key: OutboxKey,
    owner: string,
    set: { state: PushState; last_error: string; next_attempt_at?: number },
  ): Promise<void> {
    // Only the lease holder records a failure, and never over a row that went out meanwhile.
    await this.db
      .updateTable('pacs_outbox')
      .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1), lease_owner: null, lease_until: null }))
      .where('session_id', '=', key.sessionId)
      .where('scan_id', '=', key.scanId)
      .where('version', '=', key.version)
      .where('state', '=', 'pending')
      .where('lease_owner', '=', owner)
      .execute();
  }
}

function newRow(key: OutboxKey, nowMs: number) {
  return {
    session_id: key.sessionId,
    scan_id: key.scanId,
    version: key.version,
    state: 'pending',
    attempts: 0,
    last_error: null,
    next_attempt_at: nowMs,
    lease_owner: null,
    lease_until: null,
    sop_instance_uid: null,
    created_at: new Date(nowMs).toISOString(),
    sent_at: null,
  };
}
