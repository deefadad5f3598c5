import type { FastifyInstance } from 'fastify';
import type { LockService } from '../../collab/lock.js';
import type { AuditStore } from '../../db/audit-store.js';
import type { ConsensusStore, StoredConsensus } from '../../db/consensus-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { SrPush } from '../../pacs/sr-push.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, forbidden, notFound } from '../errors.js';

type Params = { sessionId: string; scanId: string };

export function lockRoutes(
  app: FastifyInstance,
  deps: {
    sessions: SessionsStore;
    consensus: ConsensusStore;
    locks: LockService;
    audit: AuditStore;
    requireUser: RequireUser;
    /** The SR push to the PACS; undefined when no PACS is configured. */
    srPush?: Pick<SrPush, 'status'> | undefined;
  },
) {
  const body = (c: StoredConsensus) => ({
    version: c.version,
    sha256: c.sha256,
    lockedBy: c.lockedBy,
    lockedAt: c.lockedAt,
    record: JSON.parse(c.record) as unknown,
  });

  app.post<{ Params: Params }>('/api/sessions/:sessionId/scans/:scanId/lock', async (req) => {
    const user = await deps.requireUser(req);
    const { sessionId, scanId } = req.params;
    if (!(await deps.sessions.exists(sessionId))) throw notFound('session');
    if ((await deps.sessions.panelRole(sessionId, user.id)) !== 'moderator') {
      throw forbidden('only the session’s moderator can lock a scan');
    }
    if (!(await deps.sessions.scanState(sessionId, scanId))) throw notFound('scan in this session');
    const result = await deps.locks.lock({ sessionId, scanId }, user.id);
    if (!result.ok) {
      const status =
        result.error.code === 'not_found' ? 404 : result.error.code === 'unavailable' ? 503 : 409;
      throw new ApiError(status, result.error.code, result.error.message);
    }
    await deps.audit.append([
      {
        sessionId,
        scanId,
        kind: 'lock',
        actor: user.id,
        payload: { version: result.value.version, sha256: result.value.sha256, via: 'http' },
      },
    ]);
    return body(result.value);
  });

  app.get<{ Params: Params }>('/api/sessions/:sessionId/scans/:scanId/consensus', async (req) => {
    const user = await deps.requireUser(req);
    const { sessionId, scanId } = req.params;
    if (!(await deps.sessions.exists(sessionId))) throw notFound('session');
    if (user.role !== 'admin' && !(await deps.sessions.panelRole(sessionId, user.id))) {
      throw forbidden('you are not on this session’s panel');
    }
    const record = await deps.consensus.latest({ sessionId, scanId });
    if (!record) throw notFound('consensus (the scan is not locked)');
    // R-PUSH-6: null when no PACS is configured or this version is not queued for it.
    const pacsPush = deps.srPush
      ? await deps.srPush.status({ sessionId, scanId, version: record.version })
      : null;
    return { ...body(record), pacsPush };
  });
}
