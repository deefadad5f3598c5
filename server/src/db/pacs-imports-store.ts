import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type PacsImportState = 'queued' | 'running' | 'done' | 'failed';
export type PacsItemState = 'pending' | 'done' | 'failed';

/** A PACS import job as the database holds it. */
export interface PacsImportJob {
  readonly id: string;
  readonly createdBy: string | null;
  readonly sessionId: string | null;
  readonly studyUids: readonly string[];
  readonly state: PacsImportState;
  /** Every study's instances are listed as items. */
  readonly listed: boolean;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** One instance of a job; `sopUid` null: a study that could not be listed. */
export interface PacsImportItem {
  readonly position: number;
  readonly studyUid: string;
  readonly seriesUid: string | null;
  readonly sopUid: string | null;
  readonly state: PacsItemState;
  readonly scanId: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export type NewPacsImportItem = Pick<PacsImportItem, 'studyUid' | 'seriesUid' | 'sopUid'> &
  Partial<Pick<PacsImportItem, 'state' | 'errorCode' | 'errorMessage'>>;

type JobRow = Awaited<ReturnType<PacsImportsStore['jobRow']>>;

/**
 * The durable PACS import jobs (R-PACS-5): a job row leased by one node at a time
 * (`lease_owner` until `lease_until`, epoch ms), and one item per instance, settled one by one,
 * so a job that a node or the PACS dropped is resumed where it stood.
 */
export class PacsImportsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(
    job: { id: string; createdBy: string | null; sessionId: string | null; studyUids: readonly string[] },
    nowMs: number,
  ): Promise<void> {
    await this.db
      .insertInto('pacs_imports')
      .values({
        id: job.id,
        created_by: job.createdBy,
        session_id: job.sessionId,
        study_uids: JSON.stringify(job.studyUids),
        state: 'queued',
        listed: 0,
        attempts: 0,
        last_error: null,
        next_attempt_at: nowMs,
        lease_owner: null,
        lease_until: null,
        created_at: new Date(nowMs).toISOString(),
        finished_at: null,
      })
      .execute();
  }

  async get(id: string): Promise<PacsImportJob | undefined> {
    const row = await this.jobRow(id);
    return row && toJob(row);
  }

  async items(jobId: string): Promise<PacsImportItem[]> {
    const rows = await this.db
      .selectFrom('pacs_import_items')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      position: Number(r.position),
      studyUid: r.study_uid,
      seriesUid: r.series_uid,
      sopUid: r.sop_uid,
      state: r.state as PacsItemState,
      scanId: r.scan_id,
      errorCode: r.error_code,
      errorMessage: r.error_message,
    }));
  }

  /**
   * Leases one due, unfinished job whose lease is free or ended (a node that died), marks it
   * running and answers it; undefined when none is due. A compare-and-set: of two nodes
   * claiming at once one gets it.
   */
  async claim(owner: string, nowMs: number, leaseMs: number): Promise<PacsImportJob | undefined> {
    const due = await this.db
      .selectFrom('pacs_imports')
      .select('id')
      .where('state', 'in', ['queued', 'running'])
      .where('next_attempt_at', '<=', nowMs)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
      .orderBy('created_at')
      .limit(4)
      .execute();
    for (const { id } of due) {
      const result = await this.db
        .updateTable('pacs_imports')
        .set({ lease_owner: owner, lease_until: nowMs + leaseMs, state: 'running' })
        .where('id', '=', id)
        .where('state', 'in', ['queued', 'running'])
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return this.get(id);
    }
    return undefined;
  }

  /** Extends this node's lease; false when it is no longer this node's (it ran out and was taken). */
  async renew(id: string, owner: string, nowMs: number, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('pacs_imports')
      .set({ lease_until: nowMs + leaseMs })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records every study's instances at once, so a job is listed wholly or not at all. */
  async addItems(id: string, owner: string, items: readonly NewPacsImportItem[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const marked = await tx
        .updateTable('pacs_imports')
        .set({ listed: 1 })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('listed', '=', 0)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== 1) return false;
      if (items.length > 0) {
        await tx
          .insertInto('pacs_import_items')
          .values(
            items.map((item, position) => ({
              job_id: id,
              position,
              study_uid: item.studyUid,
              series_uid: item.seriesUid,
              sop_uid: item.sopUid,
              state: item.state ?? 'pending',
              scan_id: null,
              error_code: item.errorCode ?? null,
              error_message: item.errorMessage ?? null,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async settleItem(
    jobId: string,
    position: number,
    outcome: { state: 'done'; scanId: string } | { state: 'failed'; errorCode: string; errorMessage: string },
  ): Promise<void> {
    await this.db
      .updateTable('pacs_import_items')
      .set(
        outcome.state === 'done'
          ? { state: 'done', scan_id: outcome.scanId, error_code: null, error_message: null }
          : { state: 'failed', error_code: outcome.errorCode, error_message: outcome.errorMessage },
      )
      .where('job_id', '=', jobId)
      .where('position', '=', position)
      .where('state', '=', 'pending')
      .execute();
  }

  /** The PACS or the image store was away: the lease is let go and the job is due again later. */
  async postpone(id: string, owner: string, error: string, nextAttemptAtMs: number): Promise<void> {
    await this.db
      .updateTable('pacs_imports')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: error,
        next_attempt_at: nextAttemptAtMs,
        lease_owner: null,
        lease_until: null,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async finish(id: string, owner: string, state: 'done' | 'failed', now: Date): Promise<void> {
    await this.db
      .updateTable('pacs_imports')
      .set({ state, finished_at: now.toISOString(), lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** The earliest time an unfinished job falls due, if any (epoch ms). */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('pacs_imports')
      .select((eb) => eb.fn.min('next_attempt_at').as('due'))
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  private async jobRow(id: string) {
    return this.db.selectFrom('pacs_imports').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

function toJob(row: NonNullable<JobRow>): PacsImportJob {
  return {
    id: row.id,
    createdBy: row.created_by,
    sessionId: row.session_id,
    studyUids: JSON.parse(row.study_uids) as string[],
    state: row.state as PacsImportState,
    listed: Number(row.listed) === 1,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
