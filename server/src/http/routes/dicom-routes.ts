import fs from 'node:fs';
import fastifyMultipart from '@fastify/multipart';
import { hasPreview } from '@cxr/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ScanFile, ScanFilesStore } from '../../db/scan-files-store.js';
import type { ScansStore } from '../../db/scans-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { DicomServices } from '../../dicom/services.js';
import type { RequireUser } from '../auth-guard.js';
import { answerRange, etagMatches, ifRangeAllows } from '../conditional.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { createUploadHandler, DICOM_BODY_TYPES } from './dicom-upload.js';

/** 1 MiB reads: a film is 10-20 MB and the default 64 KiB chunks cost a first paint dearly. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

export interface DicomRouteDeps {
  readonly dicom: DicomServices;
  readonly files: ScanFilesStore;
  readonly scans: ScansStore;
  readonly sessions: SessionsStore;
  readonly requireUser: RequireUser;
  readonly maxUploadBytes: number;
  readonly maxUploadFiles: number;
}

/** Stored files never change under their hash, so caches may keep them for a year. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

/**
 * Serving of stored DICOM files, thumbnails and first-paint previews, and the body parsers for DICOM uploads. Returns
 * the upload handler, which `POST /api/scans` (scan-routes) calls for non-JSON bodies: one URL
 * creates a scan whichever way it arrives.
 */
export async function dicomRoutes(app: FastifyInstance, deps: DicomRouteDeps) {
  // The raw body is handed to the handler as a stream: it is spooled to disk with its own bound,
  // not buffered under the JSON body limit.
  app.addContentTypeParser(DICOM_BODY_TYPES, (_req, payload, done) => done(null, payload));
  await app.register(fastifyMultipart, {
    // Over-long files are cut and flagged (`truncated`) rather than failing the whole request.
    throwFileSizeLimit: false,
    limits: { fileSize: deps.maxUploadBytes, files: deps.maxUploadFiles, fields: 16, fieldSize: 4096 },
  });

  async function authorizedFile(req: FastifyRequest<{ Params: { scanId: string } }>): Promise<ScanFile> {
    const user = await deps.requireUser(req);
    const id = req.params.scanId;
    const file = await deps.files.get(id);
    if (!file) throw notFound((await deps.scans.get(id)) ? 'DICOM file of this scan' : 'scan');
    if (user.role !== 'admin' && !(await deps.sessions.userCanSeeScan(user.id, id))) {
      throw forbidden('this scan is not in any of your sessions');
    }
    return file;
  }

  app.get<{ Params: { scanId: string } }>('/api/scans/:scanId/dicom', async (req, reply) => {
    const file = await authorizedFile(req);
    const etag = `"${file.sha256}"`;
    void reply.header('accept-ranges', 'bytes');
    if (etagMatches(req.headers['if-none-match'], etag)) return cacheHeaders(reply, etag).status(304).send();
    const range = ifRangeAllows(header(req, 'if-range'), etag)
      ? answerRange(header(req, 'range'), file.bytes)
      : { kind: 'full' as const };
    // Found (or fetched from the archive) before any header is sent: a missing image is a 404
    // and an unreachable archive a 503, never a stream that fails after a 200 (R-IMG-3).
    const path = await deps.dicom.images.localPath(file.sha256);
    void reply.type('application/dicom');
    switch (range.kind) {
      case 'full':
        void cacheHeaders(reply, etag).header('content-length', file.bytes);
        return reply.send(fs.createReadStream(path, { highWaterMark: STREAM_CHUNK_BYTES }));
      case 'partial':
        void cacheHeaders(reply, etag)
          .status(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${file.bytes}`)
          .header('content-length', range.end - range.start + 1);
        return reply.send(
          fs.createReadStream(path, {
            start: range.start,
            end: range.end,
            highWaterMark: STREAM_CHUNK_BYTES,
          }),
        );
      case 'unsatisfiable':
        // No validators or caching on a refusal: only the file itself is immutable.
        return reply
          .status(416)
          .type('application/json')
          .header('content-range', `bytes */${file.bytes}`)
          .send({
            error: { code: 'range_not_satisfiable', message: `the file has ${file.bytes} bytes` },
          });
    }
  });

  app.get<{ Params: { scanId: string } }>('/api/scans/:scanId/thumbnail', async (req, reply) => {
    const file = await authorizedFile(req);
    const etag = `"thumb-${file.sha256}"`;
    if (etagMatches(req.headers['if-none-match'], etag)) return cacheHeaders(reply, etag).status(304).send();
    const png = await deps.dicom.thumbnails.pathFor(file.sha256);
    if (!png.ok) throw new ApiError(png.error.status, png.error.code, png.error.message);
    // A worklist shows thumbnails before a scan is opened: have its preview ready by then.
    if (hasPreview(file.rows, file.columns)) void deps.dicom.previews.pathFor(file.sha256).catch(() => {});
    // A few kilobytes: sent whole, so the response is complete the moment it is written.
    return cacheHeaders(reply, etag)
      .type('image/png')
      .send(await fs.promises.readFile(png.value));
  });

  app.get<{ Params: { scanId: string } }>('/api/scans/:scanId/preview', async (req, reply) => {
    const file = await authorizedFile(req);
    if (!hasPreview(file.rows, file.columns)) {
      throw new ApiError(404, 'not_found', 'no preview: the image is small enough to load whole from /dicom');
    }
    const etag = `"preview-${file.sha256}"`;
    if (etagMatches(req.headers['if-none-match'], etag)) return cacheHeaders(reply, etag).status(304).send();
    const preview = await deps.dicom.previews.pathFor(file.sha256);
    if (!preview.ok) throw new ApiError(preview.error.status, preview.error.code, preview.error.message);
    // About a megabyte: sent whole.
    return cacheHeaders(reply, etag)
      .type('application/dicom')
      .send(await fs.promises.readFile(preview.value));
  });

  return createUploadHandler({
    importer: deps.dicom.importer,
    spoolDir: deps.dicom.spoolDir,
    maxUploadBytes: deps.maxUploadBytes,
  });
}

function cacheHeaders(reply: FastifyReply, etag: string): FastifyReply {
  return reply.header('etag', etag).header('cache-control', IMMUTABLE);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
