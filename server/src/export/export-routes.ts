import { cocoDataset, consensusAnnotationsCsv, consensusImageLabelsCsv } from '@cxr/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RequireUser } from '../http/auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../http/errors.js';
import { type ExportDeps, type ExportError, type ExportSet, createExportService } from './export-service.js';

export interface ExportRouteDeps extends ExportDeps {
  readonly requireUser: RequireUser;
}

type SessionParams = { sessionId: string };
const QuerySchema = z.object({ scan: z.string().min(1).max(128).optional() }).strict();

const STATUS: Record<ExportError['code'], number> = { not_found: 404, not_locked: 409, unprocessable: 422 };

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: ExportError }): T {
  if (result.ok) return result.value;
  throw new ApiError(STATUS[result.error.code], result.error.code, result.error.message);
}

/**
 * Export routes (docs/API.md "Exports", R-EXPORT-*): VinDr-CXR test CSVs, COCO and the manifest
 * per session (optionally one scan with `?scan=`), DICOM SR per scan. Panel members and admins.
 */
export function exportRoutes(app: FastifyInstance, deps: ExportRouteDeps): void {
  const service = createExportService(deps);

  /** R-EXPORT-9: 401 without a token, 404 for an unknown session, 403 off the panel. */
  async function authorize(req: FastifyRequest, sessionId: string): Promise<void> {
    const user = await deps.requireUser(req);
    if (!(await deps.sessions.exists(sessionId))) throw notFound('session');
    if (user.role !== 'admin' && !(await deps.sessions.panelRole(sessionId, user.id))) {
      throw forbidden('you are not on this session’s panel');
    }
  }

  function sendFile(reply: FastifyReply, set: ExportSet, name: string, type: string, body: string) {
    void reply
      .header('content-type', type)
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-consensus-sha256', set.sha256)
      .header(
        'x-consensus-unlocked',
        String(set.manifest.scans.filter((s) => s.status === 'unlocked').length),
      );
    if (set.version !== undefined) void reply.header('x-consensus-version', String(set.version));
    return reply.send(body);
  }

  const files: Array<{ name: string; type: string; render: (sessionId: string, set: ExportSet) => string }> =
    [
      {
        name: 'annotations_test.csv',
        type: 'text/csv; charset=utf-8',
        render: (_, s) => consensusAnnotationsCsv(s.images),
      },
      {
        name: 'image_labels_test.csv',
        type: 'text/csv; charset=utf-8',
        render: (_, s) => consensusImageLabelsCsv(s.images),
      },
      {
        name: 'coco.json',
        type: 'application/json; charset=utf-8',
        render: (id, s) => JSON.stringify(cocoDataset(id, s.images, s.lockedAtMs)),
      },
    ];
  for (const file of files) {
    app.get<{ Params: SessionParams; Querystring: unknown }>(
      `/api/sessions/:sessionId/export/${file.name}`,
      async (req, reply) => {
        const { sessionId } = req.params;
        await authorize(req, sessionId);
        const { scan } = parseWith(QuerySchema, req.query);
        const set = unwrap(await service.exportSet(sessionId, scan));
        return sendFile(reply, set, file.name, file.type, file.render(sessionId, set));
      },
    );
  }

  app.get<{ Params: SessionParams }>('/api/sessions/:sessionId/export/manifest.json', async (req, reply) => {
    await authorize(req, req.params.sessionId);
    const manifest = unwrap(await service.manifest(req.params.sessionId));
    void reply.header('x-consensus-sha256', manifest.digest);
    return manifest;
  });

  app.get<{ Params: SessionParams & { scanId: string } }>(
    '/api/sessions/:sessionId/scans/:scanId/export/sr.dcm',
    async (req, reply) => {
      const { sessionId, scanId } = req.params;
      await authorize(req, sessionId);
      const sr = unwrap(await service.sr(sessionId, scanId));
      return reply
        .header('content-type', 'application/dicom')
        .header('content-disposition', `attachment; filename="${scanId}-v${sr.version}.sr.dcm"`)
        .header('x-consensus-sha256', sr.sha256)
        .header('x-consensus-version', String(sr.version))
        .send(Buffer.from(sr.bytes));
    },
  );
}
