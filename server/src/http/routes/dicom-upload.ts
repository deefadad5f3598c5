import { Readable } from 'node:stream';
import type { User } from '@cxr/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  DicomImporter,
  ImportedScan,
  ImportRejection,
  ImportResult,
} from '../../dicom/import-service.js';
import { ApiError } from '../errors.js';
import { type Spooled, spoolToFile, tooLarge, uploadFileName } from '../upload.js';

export interface UploadDeps {
  readonly importer: DicomImporter;
  readonly spoolDir: string;
  readonly maxUploadBytes: number;
}

/** Content types `POST /api/scans` takes as a DICOM upload (JSON stays a registration by size). */
export const DICOM_BODY_TYPES = ['application/dicom', 'application/octet-stream'];

/** A per-file outcome of a multipart upload. */
type FileOutcome =
  | { fileName: string | undefined; scan: ImportedScan }
  | {
      fileName: string | undefined;
      rejected: { code: ImportRejection['code'] | 'payload_too_large'; status: number; message: string };
    };

/**
 * Handles a DICOM `POST /api/scans` for an admin or moderator.
 *
 * One file (`application/dicom`): 201 with the scan the first time, 200 with `duplicate: true`
 * when the same content was imported before; a refused file is the library's error with its
 * status (400/413/415/422), 409 when its image id belongs to a different file.
 *
 * Several files (`multipart/form-data`, each part read and imported in turn): 201 (200 if all
 * were duplicates) with `{scans}` when every file imported; when none did, the first refusal's
 * status and code with every refusal in `details.rejected`; when some did, 207 with `{scans,
 * rejected}`. A refused file never leaves anything behind.
 */
export type UploadHandler = (req: FastifyRequest, reply: FastifyReply, user: User) => Promise<FastifyReply>;

export function createUploadHandler(deps: UploadDeps): UploadHandler {
  return async function upload(req, reply, user) {
    if (req.isMultipart()) return uploadMany(req, reply, user, deps);
    const body = req.body;
    if (!(body instanceof Readable)) throw new ApiError(400, 'bad_request', 'no request body');
    const declared = Number(req.headers['content-length']);
    if (declared > deps.maxUploadBytes) throw closing(reply, tooLarge(deps.maxUploadBytes));
    const spooled = await spoolToFile(body, deps.spoolDir, deps.maxUploadBytes).catch((e: unknown) => {
      throw e instanceof ApiError ? closing(reply, e) : e;
    });
    const result = await importAndRemove(deps, spooled, user, uploadFileName(req));
    if (!result.ok) throw new ApiError(result.error.status, result.error.code, result.error.message);
    return reply.status(result.value.duplicate ? 200 : 201).send(result.value);
  };
}

async function uploadMany(req: FastifyRequest, reply: FastifyReply, user: User, deps: UploadDeps) {
  const outcomes: FileOutcome[] = [];
  // Parts are consumed one at a time; each file is imported before the next is read.
  for await (const part of req.files()) {
    const fileName = part.filename ? part.filename.split(/[\\/]/).pop() : undefined;
    // Busboy stops each part at the bound and flags it, so the spool never passes it.
    const spooled = await spoolToFile(part.file, deps.spoolDir, deps.maxUploadBytes);
    if (part.file.truncated) {
      await spooled.remove();
      const e = tooLarge(deps.maxUploadBytes);
      outcomes.push({ fileName, rejected: { code: 'payload_too_large', status: 413, message: e.message } });
      continue;
    }
    const result = await importAndRemove(deps, spooled, user, fileName);
    outcomes.push(result.ok ? { fileName, scan: result.value } : { fileName, rejected: result.error });
  }
  if (outcomes.length === 0) throw new ApiError(400, 'bad_request', 'the upload holds no file');
  const scans = outcomes.flatMap((o) => ('scan' in o ? [{ fileName: o.fileName, ...o.scan }] : []));
  const rejected = outcomes.flatMap((o) =>
    'rejected' in o ? [{ fileName: o.fileName, ...o.rejected }] : [],
  );
  const first = rejected[0];
  if (first === undefined) {
    return reply.status(scans.every((s) => s.duplicate) ? 200 : 201).send({ scans });
  }
  if (scans.length === 0) {
    throw new ApiError(first.status, first.code, `${first.fileName ?? 'file'}: ${first.message}`, {
      rejected,
    });
  }
  return reply.status(207).send({ scans, rejected });
}

/**
 * Imports the spooled upload (read as the CLI reads files), then removes its temp file before
 * any answer is sent, so no answer ever leaves a spool file behind.
 */
async function importAndRemove(
  deps: UploadDeps,
  spooled: Spooled,
  user: User,
  fileName: string | undefined,
): Promise<ImportResult> {
  try {
    // The name it was sent with, never the spool file's: that must not become an image id.
    return await deps.importer.importFile(spooled.file, user.id, { fileName });
  } finally {
    await spooled.remove();
  }
}

/**
 * The client may still be sending a body we will not read: close the connection after the
 * answer instead of draining an arbitrarily large remainder.
 */
function closing(reply: FastifyReply, error: ApiError): ApiError {
  void reply.header('connection', 'close');
  return error;
}
