import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditStore } from '../../db/audit-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { SrPush } from '../../pacs/sr-push.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../errors.js';

type Params = { sessionId: string; scanId: string };

/** The re-push takes no options: no body, or an empty object. */
export const PacsPushBodySchema = z.object({}).strict().optional();

/**
 * R-PUSH-7: an admin sends a locked consensus to the PACS again: a failed (or still pending)
 * push is due at once, attempts kept; a push the PACS acknowledged is never repeated (409).
 */
export function pacsPushRoutes(
  app: FastifyInstance,
  deps: {
    sessions: SessionsStore;
    audit: AuditStore;
    requireUser: RequireUser;
    /** Undefined when no PACS is configured. */
    srPush: Pick<SrPush, 'repush'> | undefined;
  },
): void {
  app.post<{ Params: Params }>(
    '/api/sessions/:sessionId/scans/:scanId/consensus/pacs-push',
    async (req, reply) => {
      const user = await deps.requireUser(req);
      const { sessionId, scanId } = req.params;
      if (!(await deps.sessions.exists(sessionId))) throw notFound('session');
      if (user.role !== 'admin') throw forbidden('only admins send a consensus to the PACS again');
      parseWith(PacsPushBodySchema, req.body);
      const state = await deps.sessions.scanState(sessionId, scanId);
      if (!state) throw notFound('scan in this session');
      if (!deps.srPush) throw new ApiError(404, 'pacs_not_configured', 'no PACS is configured (PACS_URL)');
      if (!state.locked) throw notFound('consensus (the scan is not locked)');
      const key = { sessionId, scanId, version: state.lockVersion };
      const result = await deps.srPush.repush(key);
      if (!result.ok) {
        throw new ApiError(409, 'already_sent', 'the PACS already acknowledged this consensus version', {
          pacsPush: result.error.status,
        });
      }
      await deps.audit.append([
        { sessionId, scanId, kind: 'pacs-push', actor: user.id, payload: { version: key.version } },
      ]);
      return reply.code(202).send({ pacsPush: result.value });
    },
  );
}
