import type { AnalyticsCapture, FindingViewFact, ReaderScanCapture, ViewerPreset } from '@cxr/shared';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/** A capture batch after the server checked it: user from the socket, times on the server clock. */
export interface StoredBatch {
  readonly sessionId: string;
  readonly userId: string;
  readonly batch: AnalyticsCapture;
  /** Server time the batch arrived; client times are shifted by `receivedAt - batch.sentAt`. */
  readonly receivedAt: number;
}

/**
 * Reading analytics on both engines (R-ANALYTICS-3/4): a batch is applied in one transaction,
 * once per batch id, as sums (time, tool uses) and latest views per finding, so the tables
 * grow with readers x scans x findings, never with how long or how often clients report.
 */
export class AnalyticsStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Scan ids of `scanIds` that are not in the session. */
  async unknownScans(sessionId: string, scanIds: readonly string[]): Promise<string[]> {
    if (scanIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('session_scans')
      .select('scan_id')
      .where('session_id', '=', sessionId)
      .where('scan_id', 'in', [...scanIds])
      .execute();
    const known = new Set(rows.map((r) => r.scan_id));
    return scanIds.filter((id) => !known.has(id));
  }

  /** Stores a batch; false (and nothing written) when its id was stored before (a retry). */
  async record(stored: StoredBatch): Promise<boolean> {
    const [result] = await this.recordMany([stored]);
    return result ?? false;
  }

  /**
   * Stores batches in one transaction (the capture writer coalesces the batches of many
   * sockets: one commit instead of fifty a second). One result per batch, in order.
   */
  async recordMany(batches: readonly StoredBatch[]): Promise<boolean[]> {
    return this.db.transaction().execute(async (tx) => {
      const results: boolean[] = [];
      for (const stored of batches) results.push(await this.apply(tx, stored));
      return results;
    });
  }

  private async apply(
    tx: Kysely<Database>,
    { sessionId, userId, batch, receivedAt }: StoredBatch,
  ): Promise<boolean> {
    const shift = receivedAt - batch.sentAt;
    {
      const inserted = await tx
        .insertInto('analytics_batches')
        .values({ session_id: sessionId, user_id: userId, batch_id: batch.batchId, received_at: receivedAt })
        .onConflict((c) => c.columns(['session_id', 'user_id', 'batch_id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      for (const scan of batch.scans) {
        const key = { session_id: sessionId, scan_id: scan.scanId, user_id: userId };
        await tx
          .insertInto('analytics_reading')
          .values({
            ...key,
            active_ms: scan.activeMs,
            first_opened_at: scan.openedAt === undefined ? null : scan.openedAt + shift,
            batches: 1,
            updated_at: receivedAt,
          })
          .onConflict((c) =>
            c.columns(['session_id', 'scan_id', 'user_id']).doUpdateSet({
              active_ms: sql`analytics_reading.active_ms + excluded.active_ms`,
              // The earliest opening wins; portable (no LEAST in SQLite, no scalar MIN in PostgreSQL).
              first_opened_at: sql`CASE WHEN excluded.first_opened_at IS NULL THEN analytics_reading.first_opened_at
                WHEN analytics_reading.first_opened_at IS NULL THEN excluded.first_opened_at
                WHEN excluded.first_opened_at < analytics_reading.first_opened_at THEN excluded.first_opened_at
                ELSE analytics_reading.first_opened_at END`,
              batches: sql`analytics_reading.batches + 1`,
              updated_at: sql`excluded.updated_at`,
            }),
          )
          .execute();
        const tools = Object.entries(scan.tools).filter(([, uses]) => uses > 0);
        if (tools.length > 0) {
          await tx
            .insertInto('analytics_tools')
            .values(tools.map(([tool, uses]) => ({ ...key, tool, uses })))
            .onConflict((c) =>
              c
                .columns(['session_id', 'scan_id', 'user_id', 'tool'])
                .doUpdateSet({ uses: sql`analytics_tools.uses + excluded.uses` }),
            )
            .execute();
        }
        const views = latestViews(scan.findingViews);
        if (views.length > 0) {
          // One statement for the scan's views: a batch's statements, not its rows, are what
          // the capture costs the server (R-ANALYTICS-3).
          await tx
            .insertInto('analytics_finding_views')
            .values(
              views.map((v) => ({
                ...key,
                finding_id: v.findingId,
                action: v.action,
                at: v.at + shift,
                window_center: v.view.windowCenter,
                window_width: v.view.windowWidth,
                preset: v.view.preset,
                zoom: v.view.zoom,
                invert: v.view.invert ? 1 : 0,
              })),
            )
            .onConflict((c) =>
              c
                .columns(['session_id', 'scan_id', 'user_id', 'finding_id', 'action'])
                .doUpdateSet({
                  at: sql`excluded.at`,
                  window_center: sql`excluded.window_center`,
                  window_width: sql`excluded.window_width`,
                  preset: sql`excluded.preset`,
                  zoom: sql`excluded.zoom`,
                  invert: sql`excluded.invert`,
                })
                // Batches can arrive out of order: keep the latest view of each action.
                .where(sql<boolean>`excluded.at >= analytics_finding_views.at`),
            )
            .execute();
        }
      }
      return true;
    }
  }

  /** The reveal of a blind session, per scan; the first one written stays. */
  async recordReveal(sessionId: string, scanId: string, at: number, proposalIds: readonly string[]) {
    await this.db
      .insertInto('analytics_reveals')
      .values({
        session_id: sessionId,
        scan_id: scanId,
        revealed_at: at,
        proposal_ids: JSON.stringify(proposalIds),
      })
      .onConflict((c) => c.columns(['session_id', 'scan_id']).doNothing())
      .execute();
  }

  async reveals(sessionId: string): Promise<Map<string, { at: number; proposalIds: string[] }>> {
    const rows = await this.db
      .selectFrom('analytics_reveals')
      .selectAll()
      .where('session_id', '=', sessionId)
      .execute();
    return new Map(
      rows.map((r) => [
        r.scan_id,
        { at: Number(r.revealed_at), proposalIds: JSON.parse(r.proposal_ids) as string[] },
      ]),
    );
  }

  /** Everything captured in a session (or only `userId`'s), one entry per reader x scan. */
  async captures(sessionId: string, userId?: string): Promise<ReaderScanCapture[]> {
    let reading = this.db.selectFrom('analytics_reading').selectAll().where('session_id', '=', sessionId);
    let tools = this.db.selectFrom('analytics_tools').selectAll().where('session_id', '=', sessionId);
    let views = this.db.selectFrom('analytics_finding_views').selectAll().where('session_id', '=', sessionId);
    if (userId !== undefined) {
      reading = reading.where('user_id', '=', userId);
      tools = tools.where('user_id', '=', userId);
      views = views.where('user_id', '=', userId);
    }
    const [readingRows, toolRows, viewRows] = await Promise.all([
      reading.execute(),
      tools.execute(),
      views.execute(),
    ]);
    const out = new Map<
      string,
      {
        readerId: string;
        scanId: string;
        activeMs: number;
        firstOpenedAt: number | null;
        tools: Record<string, number>;
        views: FindingViewFact[];
      }
    >();
    const entry = (scanId: string, readerId: string) => {
      const key = `${readerId}\u0000${scanId}`;
      let e = out.get(key);
      if (!e) {
        e = { readerId, scanId, activeMs: 0, firstOpenedAt: null, tools: {}, views: [] };
        out.set(key, e);
      }
      return e;
    };
    for (const r of readingRows) {
      const e = entry(r.scan_id, r.user_id);
      e.activeMs = Number(r.active_ms);
      e.firstOpenedAt = r.first_opened_at === null ? null : Number(r.first_opened_at);
    }
    for (const t of toolRows) entry(t.scan_id, t.user_id).tools[t.tool] = Number(t.uses);
    for (const v of viewRows) {
      entry(v.scan_id, v.user_id).views.push({
        findingId: v.finding_id,
        action: v.action === 'created' ? 'created' : 'changed',
        at: Number(v.at),
        view: {
          windowCenter: Number(v.window_center),
          windowWidth: Number(v.window_width),
          preset: v.preset as ViewerPreset,
          zoom: Number(v.zoom),
          invert: Number(v.invert) === 1,
        },
      });
    }
    return [...out.values()];
  }
}

type FindingView = AnalyticsCapture['scans'][number]['findingViews'][number];

/**
 * The latest view of each finding and action in one batch (ties: the later in the batch), so a
 * single multi-row upsert never touches one row twice (PostgreSQL refuses that).
 */
export function latestViews(views: readonly FindingView[]): FindingView[] {
  const latest = new Map<string, FindingView>();
  for (const v of views) {
    const key = `${v.action}\u0000${v.findingId}`;
    const seen = latest.get(key);
    if (!seen || v.at >= seen.at) latest.set(key, v);
  }
  return [...latest.values()];
}
