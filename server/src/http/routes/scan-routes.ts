import { RegisterScanSchema } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import type { ScansStore } from '../../db/scans-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import { type RequireUser, requireRole } from '../auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../errors.js';
import type { UploadHandler } from './dicom-upload.js';

export function scanRoutes(
  app: FastifyInstance,
  deps: { scans: ScansStore; sessions: SessionsStore; requireUser: RequireUser; upload?: UploadHandler },
) {
  // Registration by id and size (JSON); DICOM bodies go to the ingest upload handler.
  app.post('/api/scans', async (req, reply) => {
    const user = await deps.requireUser(req);
    requireRole(user, 'admin', 'moderator');
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/json')) {
      if (deps.upload && isDicomUpload(contentType)) return deps.upload(req, reply, user);
      throw new ApiError(
        415,
        'unsupported_media_type',
        `cannot create a scan from ${contentType || 'no content type'}; send application/json, application/dicom or multipart/form-data`,
      );
    }
    const body = parseWith(RegisterScanSchema, req.body);
    const created = await deps.scans.register({ ...body, createdBy: user.id });
    if (!created) throw new ApiError(409, 'conflict', `scan ${body.id} already exists`);
    return reply.status(201).send({ id: body.id, rows: body.rows, columns: body.columns });
  });

  app.get<{ Params: { scanId: string } }>('/api/scans/:scanId', async (req) => {
    const user = await deps.requireUser(req);
    const scan = await deps.scans.get(req.params.scanId);
    if (!scan) throw notFound('scan');
    if (user.role !== 'admin' && !(await deps.sessions.userCanSeeScan(user.id, scan.id))) {
      throw forbidden('this scan is not in any of your sessions');
    }
    return scan;
  });
}

function isDicomUpload(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type === 'application/dicom' || type === 'application/octet-stream' || type === 'multipart/form-data'
  );
}
