import type { Session, User } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import type { BlindStage } from '../../collab/blind-stage.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, forbidden, notFound } from '../errors.js';

type Params = { sessionId: string };

/** The blind first stage: progress, reveal, disputes and agreement. */
export function blindRoutes(
  app: FastifyInstance,
  deps: { sessions: SessionsStore; blind: BlindStage; requireUser: RequireUser },
) {
  const load = async (user: User, sessionId: string) => {
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
    const session = await load(user, req.params.sessionId);
    moderatorOrAdmin(user, session);
    requireBlind(session);
    return { stage: session.stage, scans: await deps.blind.progress(session) };
  });

  app.post<{ Params: Params }>('/api/sessions/:sessionId/reveal', async (req) => {
    const user = await deps.requireUser(req);
    const session = await load(user, req.params.sessionId);
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
      const session = await load(user, req.params.sessionId);
      panelOrAdmin(user, session);
      if (!session.scans.some((s) => s.scanId === req.params.scanId)) throw notFound('scan in this session');
      return { disputes: await deps.blind.disputes(session, req.params.scanId) };
    },
  );

  app.get<{ Params: Params }>('/api/sessions/:sessionId/agreement', async (req) => {
    const user = await deps.requireUser(req);
    const session = await load(user, req.params.sessionId);
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
