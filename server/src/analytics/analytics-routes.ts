import { analyticsCsv } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RequireUser } from '../http/auth-guard.js';
import { forbidden, notFound, parseWith } from '../http/errors.js';
import { type AnalyticsDeps, sessionAnalytics, viewerOf } from './analytics-service.js';

const QuerySchema = z.object({ format: z.enum(['json', 'csv']).default('json') }).strict();

/** `GET /api/sessions/:sessionId/analytics[?format=csv]` (R-ANALYTICS-5, R-ANALYTICS-9). */
export function analyticsRoutes(app: FastifyInstance, deps: AnalyticsDeps & { requireUser: RequireUser }) {
  app.get<{ Params: { sessionId: string }; Querystring: unknown }>(
    '/api/sessions/:sessionId/analytics',
    async (req, reply) => {
      const user = await deps.requireUser(req);
      const { format } = parseWith(QuerySchema, req.query ?? {});
      const session = await deps.sessions.get(req.params.sessionId);
      if (!session) throw notFound('session');
      const viewer = viewerOf(user, session);
      if (!viewer) throw forbidden('only the session’s panel (or an admin) may read its analytics');
      const analytics = await sessionAnalytics(deps, session, viewer);
      // Per-reader performance is sensitive: never cached by a browser or a proxy.
      void reply.header('cache-control', 'private, no-store');
      if (format === 'json') return analytics;
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="analytics-${session.id}.csv"`)
        .send(analyticsCsv(analytics.rows));
    },
  );
}
