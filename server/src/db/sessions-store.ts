import { randomUUID } from 'node:crypto';
import {
  type CreateSession,
  type Session,
  type SessionMode,
  SessionModeSchema,
  type SessionStage,
  SessionStageSchema,
} from '@cxr/shared';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A user's place in one session; admins who are not on the panel are observers. */
export type PanelRole = 'moderator' | 'reader';

export interface SessionScanState {
  readonly sessionId: string;
  readonly scanId: string;
  readonly rows: number;
  readonly columns: number;
  readonly locked: boolean;
  readonly lockVersion: number;
}

export class SessionsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: CreateSession, createdBy: string): Promise<Session> {
    const id = randomUUID();
    const createdAt = new Date().toISOString();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('sessions')
        .values({
          id,
          name: input.name,
          mode: input.mode,
          stage: input.mode === 'blind' ? 'blind' : 'consensus',
          fusion_iou: input.fusionIouThreshold,
          moderator_id: input.moderatorId,
          created_by: createdBy,
          created_at: createdAt,
        })
        .execute();
      if (input.readerIds.length > 0) {
        await tx
          .insertInto('session_readers')
          .values(input.readerIds.map((userId, position) => ({ session_id: id, user_id: userId, position })))
          .execute();
      }
      if (input.scanIds.length > 0) {
        await tx
          .insertInto('session_scans')
          .values(
            input.scanIds.map((scanId, position) => ({
              session_id: id,
              scan_id: scanId,
              position,
              locked: 0,
              lock_version: 0,
            })),
          )
          .execute();
      }
    });
    const session = await this.get(id);
    if (!session) throw new Error('session vanished after insert');
    return session;
  }

  async get(id: string): Promise<Session | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const readers = await this.db
      .selectFrom('session_readers')
      .select('user_id')
      .where('session_id', '=', id)
      .orderBy('position')
      .execute();
    const scans = await this.db
      .selectFrom('session_scans')
      .innerJoin('scans', 'scans.id', 'session_scans.scan_id')
      .select([
        'session_scans.scan_id',
        'session_scans.position',
        'session_scans.locked',
        'scans.rows',
        'scans.columns',
      ])
      .where('session_scans.session_id', '=', id)
      .orderBy('session_scans.position')
      .execute();
    return {
      id: row.id,
      name: row.name,
      mode: SessionModeSchema.parse(row.mode),
      stage: SessionStageSchema.parse(row.stage),
      fusionIouThreshold: Number(row.fusion_iou),
      moderatorId: row.moderator_id,
      readerIds: readers.map((r) => r.user_id),
      scans: scans.map((s) => ({
        scanId: s.scan_id,
        position: s.position,
        locked: s.locked === 1,
        rows: s.rows,
        columns: s.columns,
      })),
      createdAt: row.created_at,
    };
  }

  /** Sessions the user moderates or reads in (all of them for `all`), newest first. */
  async listIds(userId: string, all: boolean): Promise<string[]> {
    let query = this.db.selectFrom('sessions').select(['id', 'created_at']);
    if (!all) {
      query = query.where((eb) =>
        eb.or([
          eb('moderator_id', '=', userId),
          eb('id', 'in', eb.selectFrom('session_readers').select('session_id').where('user_id', '=', userId)),
        ]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').execute();
    return rows.map((r) => r.id);
  }

  /** Takes a reader off a session's panel; false if they were not on it. */
  async removeReader(sessionId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('session_readers')
      .where('session_id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async panelRole(sessionId: string, userId: string): Promise<PanelRole | undefined> {
    const session = await this.db
      .selectFrom('sessions')
      .select('moderator_id')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!session) return undefined;
    if (session.moderator_id === userId) return 'moderator';
    const reader = await this.db
      .selectFrom('session_readers')
      .select('user_id')
      .where('session_id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return reader ? 'reader' : undefined;
  }

  /** Moves a blind session to its consensus stage; false if it was not in the blind stage. */
  async reveal(sessionId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ stage: 'consensus' })
      .where('id', '=', sessionId)
      .where('stage', '=', 'blind')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The panel and stage without the scan list (a session may hold thousands of scans). */
  async panel(
    sessionId: string,
  ): Promise<{ moderatorId: string; readerIds: string[]; stage: SessionStage } | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['moderator_id', 'stage'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!row) return undefined;
    const readers = await this.db
      .selectFrom('session_readers')
      .select('user_id')
      .where('session_id', '=', sessionId)
      .orderBy('position')
      .execute();
    return {
      moderatorId: row.moderator_id,
      readerIds: readers.map((r) => r.user_id),
      stage: SessionStageSchema.parse(row.stage),
    };
  }

  /** The session's mode and stage (cheap: no panel or scans). */
  async stage(sessionId: string): Promise<{ mode: SessionMode; stage: SessionStage } | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['mode', 'stage'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row && { mode: SessionModeSchema.parse(row.mode), stage: SessionStageSchema.parse(row.stage) };
  }

  /**
   * Appends scans to a session's worklist (a PACS import into it, R-PACS-4), after its last;
   * scans already in it stay where they are. Returns the ids actually added.
   */
  async addScans(sessionId: string, scanIds: readonly string[]): Promise<string[]> {
    if (scanIds.length === 0) return [];
    return this.db.transaction().execute(async (tx) => {
      const present = await tx
        .selectFrom('session_scans')
        .select(['scan_id', 'position'])
        .where('session_id', '=', sessionId)
        .execute();
      const have = new Set(present.map((r) => r.scan_id));
      const fresh = [...new Set(scanIds)].filter((id) => !have.has(id));
      if (fresh.length === 0) return [];
      let next = present.reduce((max, r) => Math.max(max, Number(r.position)), -1) + 1;
      await tx
        .insertInto('session_scans')
        .values(
          fresh.map((scanId) => ({
            session_id: sessionId,
            scan_id: scanId,
            position: next++,
            locked: 0,
            lock_version: 0,
          })),
        )
        // Two imports adding the same scan at once: the first one's row stands.
        .onConflict((c) => c.columns(['session_id', 'scan_id']).doNothing())
        .execute();
      return fresh;
    });
  }

  async exists(sessionId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async scanState(sessionId: string, scanId: string): Promise<SessionScanState | undefined> {
    const row = await this.db
      .selectFrom('session_scans')
      .innerJoin('scans', 'scans.id', 'session_scans.scan_id')
      .select(['session_scans.locked', 'session_scans.lock_version', 'scans.rows', 'scans.columns'])
      .where('session_scans.session_id', '=', sessionId)
      .where('session_scans.scan_id', '=', scanId)
      .executeTakeFirst();
    return (
      row && {
        sessionId,
        scanId,
        rows: row.rows,
        columns: row.columns,
        locked: row.locked === 1,
        lockVersion: row.lock_version,
      }
    );
  }

  /** Whether the user is on the panel of any session that contains the scan. */
  async userCanSeeScan(userId: string, scanId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('session_scans')
      .innerJoin('sessions', 'sessions.id', 'session_scans.session_id')
      .leftJoin('session_readers', (join) =>
        join
          .onRef('session_readers.session_id', '=', 'sessions.id')
          .on('session_readers.user_id', '=', userId),
      )
      .select('session_scans.scan_id')
      .where('session_scans.scan_id', '=', scanId)
      .where((eb) =>
        eb.or([eb('sessions.moderator_id', '=', userId), eb('session_readers.user_id', '=', userId)]),
      )
      .executeTakeFirst();
    return row !== undefined;
  }
}
