import type { FastifyInstance } from 'fastify';
import { type AuditStore, verifyChain } from '../db/audit-store.js';
import type { DocStore } from '../db/doc-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { RequireUser } from '../http/auth-guard.js';
import { forbidden, notFound } from '../http/errors.js';

type Params = { sessionId: string; scanId: string };

/**
 * `GET /api/sessions/:sessionId/scans/:scanId/audit`: the scan's chain for panel members and
 * admins, verified on every read (R-AUDIT-2), so tampering with stored rows shows up here; and
 * the members' edits still in the document log, which join the chain at the next compaction
 * (R-AUDIT-9), so the answer is complete at any moment.
 */
export function auditRoutes(
  app: FastifyInstance,
  deps: { audit: AuditStore; docs: DocStore; sessions: SessionsStore; requireUser: RequireUser },
): void {
  app.get<{ Params: Params }>('/api/sessions/:sessionId/scans/:scanId/audit', async (req) => {
    const user = await deps.requireUser(req);
    const { sessionId, scanId } = req.params;
    if (!(await deps.sessions.exists(sessionId))) throw notFound('session');
    if (user.role !== 'admin' && !(await deps.sessions.panelRole(sessionId, user.id))) {
      throw forbidden('you are not on this session’s panel');
    }
    if (!(await deps.sessions.scanState(sessionId, scanId))) throw notFound('scan in this session');
    const entries = await deps.audit.list(sessionId, scanId);
    const pending = await deps.docs.pendingEdits({ sessionId, scanId });
    return {
      entries,
      ...verifyChain(entries),
      pendingEdits: pending.map(({ actor, summary }) => ({ actor, ...summary })),
    };
  });
}
