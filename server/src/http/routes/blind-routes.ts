import {
  type Session,
  type User,
  parseAnnotationsCsv,
  parseImageLabelsCsv,
  readerAnnotationsCsv,
  readerImageLabelsCsv,
  readingsFromVindrCsv,
} from '@cxr/shared';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { BlindStage } from '../../collab/blind-stage.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { UsersStore } from '../../db/users-store.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../errors.js';

export const ImportBodySchema = z
  .object({
    annotationsCsv: z.string().min(1),
    imageLabelsCsv: z.string().min(1),
    /** rad_id -> user id; by default a rad_id names the reader with that username. */
    readers: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const csvError = (problems: string[]) =>
  new ApiError(
    400,
    'validation_failed',
    `the CSV files have ${problems.length} problem(s)`,
    problems.slice(0, 100),
  );

type Params = { sessionId: string };

/** The blind first stage: progress, reveal, disputes and agreement. */
export function blindRoutes(
  app: FastifyInstance,
  deps: { sessions: SessionsStore; users: UsersStore; blind: BlindStage; requireUser: RequireUser },
) {
  const load = async (sessionId: string) => {
    const session = await deps.sessions.get(sessionId);
    if (!session) throw notFound('session');
    return session;
  };
  const moderatorOrAdmin = (user: User, session: Session) => {
    if (session.moderatorId !== user.id && user.role !== 'admin') {
      throw forbidden('only the session’s moderator (or an admin) may do this');
    }
  };
  const panelOrAdmin = (user: User, session: Session) => {
    const member = session.moderatorId === user.id || session.readerIds.includes(user.id);
    if (!member && user.role !== 'admin') throw forbidden('you are not on this session’s panel');
  };
  const requireBlind = (session: Session) => {
    if (session.mode !== 'blind') throw new ApiError(409, 'conflict', 'this session has no blind stage');
  };

  // Done / not done only: the content of a blind reading stays private until the reveal.
  app.get<{ Params: Params }>('/api/sessions/:sessionId/progress', async (req) => {
    const user = await deps.requireUser(req);
    const session = await load(req.params.sessionId);
    moderatorOrAdmin(user, session);
    requireBlind(session);
    return { stage: session.stage, scans: await deps.blind.progress(session) };
  });

  app.post<{ Params: Params }>('/api/sessions/:sessionId/reveal', async (req) => {
    const user = await deps.requireUser(req);
    const session = await load(req.params.sessionId);
    if (session.moderatorId !== user.id)
      throw forbidden('only the session’s moderator can reveal the readings');
    const result = await deps.blind.reveal(session, user.id);
    if (!result.ok) throw new ApiError(409, 'conflict', result.error.message);
    return { stage: 'consensus', proposals: result.value.proposals };
  });

  app.get<{ Params: Params & { scanId: string } }>(
    '/api/sessions/:sessionId/scans/:scanId/disputes',
    async (req) => {
      const user = await deps.requireUser(req);
      const session = await load(req.params.sessionId);
      panelOrAdmin(user, session);
      if (!session.scans.some((s) => s.scanId === req.params.scanId)) throw notFound('scan in this session');
      return { disputes: await deps.blind.disputes(session, req.params.scanId) };
    },
  );

  // Stage-1 readings from VinDr-CXR CSV files (train layout, with rad_id).
  app.post<{ Params: Params }>(
    '/api/sessions/:sessionId/readings/import',
    { bodyLimit: 64 * 1024 * 1024 },
    async (req) => {
      const user = await deps.requireUser(req);
      const session = await load(req.params.sessionId);
      moderatorOrAdmin(user, session);
      requireBlind(session);
      const body = parseWith(ImportBodySchema, req.body);
      const annotations = parseAnnotationsCsv(body.annotationsCsv);
      const labels = parseImageLabelsCsv(body.imageLabelsCsv);
      const fileProblems = [
        ...(annotations.ok ? [] : annotations.error.map((p) => `annotations line ${p.line}: ${p.message}`)),
        ...(labels.ok ? [] : labels.error.map((p) => `image labels line ${p.line}: ${p.message}`)),
      ];
      if (!annotations.ok || !labels.ok) throw csvError(fileProblems);
      const joined = readingsFromVindrCsv(annotations.value, labels.value);
      if (!joined.ok)
        throw csvError(joined.error.map((p) => `${p.file ?? 'csv'} line ${p.line}: ${p.message}`));
      if (joined.value.layout !== 'train') {
        throw new ApiError(400, 'validation_failed', 'readings need the train layout (with rad_id)');
      }
      const members = await deps.users.byIds(session.readerIds);
      const byName = new Map(members.map((m) => [m.username.toLowerCase(), m.id]));
      const unmapped = new Set<string>();
      const readings = joined.value.readings.flatMap((r) => {
        const readerId = body.readers?.[r.radId] ?? byName.get(r.radId.toLowerCase());
        if (!readerId) {
          unmapped.add(r.radId);
          return [];
        }
        return [{ ...r, readerId }];
      });
      if (unmapped.size > 0) {
        throw new ApiError(
          400,
          'validation_failed',
          `rad_id without a reader of this session: ${[...unmapped].join(', ')} (map them in "readers")`,
        );
      }
      const result = await deps.blind.importReadings(session, readings);
      if (!result.ok) {
        const status = result.error.code === 'validation_failed' ? 400 : 409;
        throw new ApiError(
          status,
          status === 400 ? 'validation_failed' : 'conflict',
          result.error.message,
          result.error.details,
        );
      }
      return result.value;
    },
  );

  // Per-reader readings in the VinDr-CXR train layout, once revealed.
  for (const file of ['annotations_train.csv', 'image_labels_train.csv'] as const) {
    app.get<{ Params: Params }>(`/api/sessions/:sessionId/export/${file}`, async (req, reply) => {
      const user = await deps.requireUser(req);
      const session = await load(req.params.sessionId);
      moderatorOrAdmin(user, session);
      requireBlind(session);
      if (session.stage === 'blind')
        throw new ApiError(409, 'conflict', 'readings are private until the reveal');
      const members = await deps.users.byIds(session.readerIds);
      const readings = await deps.blind.readerReadings(
        session,
        new Map(members.map((m) => [m.id, m.username])),
      );
      const csv =
        file === 'annotations_train.csv' ? readerAnnotationsCsv(readings) : readerImageLabelsCsv(readings);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file}"`)
        .send(csv);
    });
  }

  app.get<{ Params: Params }>('/api/sessions/:sessionId/agreement', async (req) => {
    const user = await deps.requireUser(req);
    const session = await load(req.params.sessionId);
    moderatorOrAdmin(user, session);
    requireBlind(session);
    if (session.stage === 'blind') {
      throw new ApiError(
        409,
        'conflict',
        'agreement is shown after the reveal (readings are private until then)',
      );
    }
    return deps.blind.agreement(session);
  });
}
