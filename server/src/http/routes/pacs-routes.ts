import type { FastifyInstance } from 'fastify';
import { PacsStudySchema } from '@cxr/shared';
import { z } from 'zod';
import type { PacsImportsStore } from '../../db/pacs-imports-store.js';
import type { SessionsStore } from '../../db/sessions-store.js';
import type { DicomWebClient } from '../../dicomweb/dicomweb-client.js';
import { DicomWebError } from '../../dicomweb/dicomweb-client.js';
import { JSON_TAG, type DicomJson, jsonNumber, jsonString, jsonStrings } from '../../dicomweb/dicom-json.js';
import type { PacsImportRunner } from '../../pacs/import-jobs.js';
import { importView } from '../../pacs/import-view.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, forbidden, notFound, parseWith } from '../errors.js';

/** A DICOM UID: digits and dots, at most 64 characters (PS3.5 9.1). */
const UidSchema = z
  .string()
  .max(64)
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'not a DICOM UID (digits and dots)');

/** QIDO-RS matching keys the picker offers (R-PACS-2); values go to the PACS as they are. */
export const PacsStudyQuerySchema = z
  .object({
    PatientID: z.string().min(1).max(64).optional(),
    AccessionNumber: z.string().min(1).max(16).optional(),
    StudyDate: z
      .string()
      .regex(/^(\d{8})?(-(\d{8})?)?$/, 'a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD')
      .min(1)
      .optional(),
    ModalitiesInStudy: z
      .string()
      .regex(/^[A-Z0-9]{1,16}$/, 'one modality code such as DX or CR')
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const PacsStudiesSchema = z.object({ studies: z.array(PacsStudySchema) });

export const PacsImportRequestSchema = z
  .object({
    studyInstanceUids: z.array(UidSchema).min(1).max(100),
    sessionId: z.string().min(1).max(128).optional(),
  })
  .strict();

export interface PacsRouteDeps {
  readonly sessions: SessionsStore;
  readonly imports: PacsImportsStore;
  readonly requireUser: RequireUser;
  /** Both undefined without PACS_URL. */
  readonly pacs: Pick<DicomWebClient, 'searchStudies'> | undefined;
  readonly runner: Pick<PacsImportRunner, 'enqueue'> | undefined;
}

/**
 * Import from the hospital's PACS (R-PACS-1..6): a study query for the picker, import jobs and
 * their progress. Admins and moderators only; an import into a session needs its moderator.
 */
export function pacsRoutes(app: FastifyInstance, deps: PacsRouteDeps): void {
  const notConfigured = () => new ApiError(404, 'pacs_not_configured', 'no PACS is configured (PACS_URL)');
  const staffOnly = async (req: Parameters<RequireUser>[0]) => {
    const user = await deps.requireUser(req);
    if (user.role !== 'admin' && user.role !== 'moderator') {
      throw forbidden('only admins and moderators import from the PACS');
    }
    return user;
  };

  app.get('/api/pacs/studies', async (req) => {
    await staffOnly(req);
    const query = parseWith(PacsStudyQuerySchema, req.query);
    if (!deps.pacs) throw notConfigured();
    const { limit, ...keys } = query;
    const filters = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    let found: DicomJson[];
    try {
      found = await deps.pacs.searchStudies(filters, limit);
    } catch (error) {
      throw pacsError(error);
    }
    return { studies: found.flatMap(toStudy) };
  });

  app.post('/api/pacs/imports', async (req, reply) => {
    const user = await staffOnly(req);
    const body = parseWith(PacsImportRequestSchema, req.body);
    if (body.sessionId !== undefined) {
      const session = await deps.sessions.get(body.sessionId);
      if (!session) throw notFound('session');
      if (user.role !== 'admin' && session.moderatorId !== user.id) {
        throw forbidden('only the session’s moderator or an admin adds scans to it');
      }
    }
    if (!deps.runner) throw notConfigured();
    const id = await deps.runner.enqueue({
      createdBy: user.id,
      sessionId: body.sessionId ?? null,
      studyUids: [...new Set(body.studyInstanceUids)],
    });
    return reply.code(202).header('location', `/api/pacs/imports/${id}`).send({ id });
  });

  app.get<{ Params: { id: string } }>('/api/pacs/imports/:id', async (req) => {
    const user = await staffOnly(req);
    const job = await deps.imports.get(req.params.id);
    // Someone else's job is not found rather than forbidden: ids are not to be probed.
    if (!job || (user.role !== 'admin' && job.createdBy !== user.id)) throw notFound('import job');
    return importView(job, await deps.imports.items(job.id));
  });
}

function toStudy(item: DicomJson): z.infer<typeof PacsStudySchema>[] {
  const studyInstanceUid = jsonString(item, JSON_TAG.StudyInstanceUID);
  if (!studyInstanceUid) return [];
  return [
    {
      studyInstanceUid,
      studyDate: jsonString(item, JSON_TAG.StudyDate) ?? null,
      studyTime: jsonString(item, JSON_TAG.StudyTime) ?? null,
      accessionNumber: jsonString(item, JSON_TAG.AccessionNumber) ?? null,
      patientId: jsonString(item, JSON_TAG.PatientID) ?? null,
      patientName: jsonString(item, JSON_TAG.PatientName) ?? null,
      studyDescription: jsonString(item, JSON_TAG.StudyDescription) ?? null,
      modalities: jsonStrings(item, JSON_TAG.ModalitiesInStudy),
      instances: jsonNumber(item, JSON_TAG.NumberOfStudyRelatedInstances) ?? null,
    },
  ];
}

function pacsError(error: unknown): ApiError {
  if (!(error instanceof DicomWebError)) throw error;
  if (error.kind === 'unavailable')
    return new ApiError(503, 'pacs_unavailable', `the PACS did not answer: ${error.message}`);
  return new ApiError(502, 'pacs_refused', `the PACS refused the query: ${error.message}`);
}
