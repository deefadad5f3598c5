import type { FastifyInstance } from 'fastify';

/**
 * `GET /api/health`: the process is alive, and whether it serves the live panel (socket.io).
 * The client asks here before it opens the panel socket, so that no request of a normal visit
 * fails (R-API-7): engine.io itself answers any plain request with 400.
 */
export function healthRoutes(app: FastifyInstance, deps: { livePanel: () => boolean; pacs: boolean }) {
  // `pacs`: whether a PACS is configured, so the client offers "From PACS" only then.
  app.get('/api/health', async () => ({ status: 'ok' as const, live: deps.livePanel(), pacs: deps.pacs }));
}
