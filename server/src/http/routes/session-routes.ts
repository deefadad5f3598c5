import { CreateSessionSchema, type Session, type User } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import type { ScansStore } from '../../db/scans-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { UsersStore } from '../../db/users-store.js';
import { type RequireUser, requireRole } from '../auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../errors.js';

interface Deps {
  readonly users: UsersStore;
  readonly scans: ScansStore;
  readonly sessions: SessionsStore;
  readonly requireUser: RequireUser;
}

/** A session as the API returns it: with the panel's names, so clients can label people. */
export type SessionView = Session & { members: Array<Pick<User, 'id' | 'username' | 'role'>> };

export function sessionRoutes(app: FastifyInstance, deps: Deps) {
  const view = async (session: Session): Promise<SessionView> => {
    const people = await deps.users.byIds([session.moderatorId, ...session.readerIds]);
    return { ...session, members: people.map((u) => ({ id: u.id, username: u.username, role: u.role })) };
  };

  app.post('/api/sessions', async (req, reply) => {
    const user = await deps.requireUser(req);
    requireRole(user, 'admin', 'moderator');
    const body = parseWith(CreateSessionSchema, req.body);
    if (user.role === 'moderator' && body.moderatorId !== user.id) {
      throw forbidden('a moderator can only create sessions they moderate');
    }
    const moderator = await deps.users.byId(body.moderatorId);
    if (!moderator || moderator.disabled)
      throw new ApiError(400, 'validation_failed', 'moderatorId: no such user');
    if (moderator.role === 'reader') {
      throw new ApiError(
        400,
        'validation_failed',
        'moderatorId: the user must have the moderator or admin role',
      );
    }
    const readers = await deps.users.byIds(body.readerIds);
    const missingReaders = body.readerIds.filter((id) => !readers.some((r) => r.id === id && !r.disabled));
    if (missingReaders.length > 0) {
      throw new ApiError(400, 'validation_failed', `readerIds: no such users: ${missingReaders.join(', ')}`);
    }
    const missingScans = await deps.scans.missing(body.scanIds);
    if (missingScans.length > 0) {
      throw new ApiError(
        400,
        'validation_failed',
        `scanIds: no such scans: ${missingScans.slice(0, 10).join(', ')}`,
      );
    }
    const session = await deps.sessions.create(body, user.id);
    return reply.status(201).send(await view(session));
  });

  app.get('/api/sessions', async (req) => {
    const user = await deps.requireUser(req);
    const ids = await deps.sessions.listIds(user.id, user.role === 'admin');
    const sessions: SessionView[] = [];
    for (const id of ids) {
      const session = await deps.sessions.get(id);
      if (session) sessions.push(await view(session));
    }
    return { sessions };
  });

  app.get<{ Params: { sessionId: string } }>('/api/sessions/:sessionId', async (req) => {
    const user = await deps.requireUser(req);
    const session = await deps.sessions.get(req.params.sessionId);
    if (!session) throw notFound('session');
    const member = session.moderatorId === user.id || session.readerIds.includes(user.id);
    if (!member && user.role !== 'admin') throw forbidden('you are not on this session’s panel');
    return view(session);
  });
}
