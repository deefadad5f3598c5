import { IdSchema, RoleSchema, type User } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type AuditStore, verifyChain } from '../db/audit-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import { type RequireUser, requireRole } from '../http/auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../http/errors.js';

/**
 * Admin actions have one hash-chained audit chain of their own, keyed like a scan's chain:
 * session ids are UUIDs, so `admin`/`admin` collides with no real chain and the table is unchanged.
 */
export const ADMIN_AUDIT_CHAIN = { sessionId: 'admin', scanId: 'admin' } as const;

export const UpdateUserSchema = z
  .object({ disabled: z.boolean().optional(), role: RoleSchema.optional() })
  .strict()
  .refine((v) => v.disabled !== undefined || v.role !== undefined, 'give disabled, role or both');

const UserParams = z.object({ userId: IdSchema }).strict();
const ReaderParams = z.object({ sessionId: IdSchema, userId: IdSchema }).strict();

/** What revoking access does beyond the database: close the user's live connections. */
export type RevokeAccess = (revocation: {
  userId: string;
  sessionId?: string;
  code: 'unauthenticated' | 'forbidden';
  message: string;
}) => void;

export interface AccessRouteDeps {
  readonly users: UsersStore;
  readonly sessions: SessionsStore;
  readonly audit: AuditStore;
  readonly requireUser: RequireUser;
  readonly revoke: RevokeAccess;
}

/**
 * Taking access away: disabling a user or changing their role (admins), removing a reader from
 * a panel (the session's moderator, admins). The database changes first, so a reconnect is
 * refused; then the user's open connections are closed with the reason; then it is audited.
 */
export function accessRoutes(app: FastifyInstance, deps: AccessRouteDeps): void {
  app.patch('/api/users/:userId', async (req) => {
    const actor = await deps.requireUser(req);
    requireRole(actor, 'admin');
    const { userId } = parseWith(UserParams, req.params);
    const change = parseWith(UpdateUserSchema, req.body);
    // An admin locking themselves out could leave nobody able to undo it.
    if (userId === actor.id) throw forbidden('you may not disable or re-role your own account');
    const before = await deps.users.byId(userId);
    if (!before) throw notFound('user');
    const after = await deps.users.update(userId, change);
    if (!after) throw notFound('user');
    if (after.disabled && !before.disabled) {
      deps.revoke({ userId, code: 'unauthenticated', message: 'your account was disabled' });
    } else if (after.role !== before.role && !after.disabled) {
      deps.revoke({ userId, code: 'forbidden', message: `your role changed to ${after.role}; log in again` });
    }
    await audit(deps, actor, 'user-update', {
      userId,
      username: after.username,
      before: { disabled: before.disabled, role: before.role },
      after: { disabled: after.disabled, role: after.role },
    });
    return after;
  });

  app.delete('/api/sessions/:sessionId/readers/:userId', async (req, reply) => {
    const actor = await deps.requireUser(req);
    const { sessionId, userId } = parseWith(ReaderParams, req.params);
    const session = await deps.sessions.get(sessionId);
    if (!session) throw notFound('session');
    if (actor.role !== 'admin' && session.moderatorId !== actor.id) {
      throw forbidden('only the session’s moderator or an admin removes readers');
    }
    if (!(await deps.sessions.removeReader(sessionId, userId))) {
      throw new ApiError(404, 'not_found', 'that user is not a reader of this session');
    }
    deps.revoke({
      userId,
      sessionId,
      code: 'forbidden',
      message: 'you were removed from this session’s panel',
    });
    await audit(deps, actor, 'reader-remove', { sessionId, userId });
    return reply.status(204).send();
  });

  app.get('/api/admin/audit', async (req) => {
    requireRole(await deps.requireUser(req), 'admin');
    const entries = await deps.audit.list(ADMIN_AUDIT_CHAIN.sessionId, ADMIN_AUDIT_CHAIN.scanId);
    return { entries, ...verifyChain(entries) };
  });
}

async function audit(deps: AccessRouteDeps, actor: User, kind: string, payload: unknown): Promise<void> {
  await deps.audit.append([{ ...ADMIN_AUDIT_CHAIN, kind, actor: actor.id, payload }]);
}
