import { z } from 'zod';
import type { PacsImportItem, PacsImportJob } from '../db/pacs-imports-store.js';

/** `GET /api/pacs/imports/:id` (R-PACS-5): a job's progress as its creator and admins see it. */
export const PacsImportViewSchema = z
  .object({
    id: z.string(),
    state: z.enum(['queued', 'running', 'done', 'failed']),
    sessionId: z.string().nullable(),
    studyInstanceUids: z.array(z.string()),
    /** Instances found (plus studies that could not be listed); 0 until the studies are listed. */
    total: z.number().int().nonnegative(),
    done: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    scans: z.array(z.object({ id: z.string(), sopInstanceUid: z.string() })),
    errors: z.array(
      z.object({
        studyInstanceUid: z.string(),
        /** Null: the study itself could not be listed. */
        sopInstanceUid: z.string().nullable(),
        code: z.string(),
        message: z.string(),
      }),
    ),
    /** Passes postponed because the PACS or the image store was away, and the last reason. */
    attempts: z.number().int().nonnegative(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .strict();
export type PacsImportView = z.infer<typeof PacsImportViewSchema>;

export function importView(job: PacsImportJob, items: readonly PacsImportItem[]): PacsImportView {
  return {
    id: job.id,
    state: job.state,
    sessionId: job.sessionId,
    studyInstanceUids: [...job.studyUids],
    total: items.length,
    done: items.filter((i) => i.state === 'done').length,
    failed: items.filter((i) => i.state === 'failed').length,
    scans: items.flatMap((i) =>
      i.state === 'done' && i.scanId && i.sopUid ? [{ id: i.scanId, sopInstanceUid: i.sopUid }] : [],
    ),
    errors: items.flatMap((i) =>
      i.state === 'failed'
        ? [
            {
              studyInstanceUid: i.studyUid,
              sopInstanceUid: i.sopUid,
              code: i.errorCode ?? 'failed',
              message: i.errorMessage ?? '',
            },
          ]
        : [],
    ),
    attempts: job.attempts,
    lastError: job.lastError,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}
