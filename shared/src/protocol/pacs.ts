import { z } from 'zod';

/** One study of a QIDO-RS answer, as `GET /api/pacs/studies` gives it (R-PACS-1). */
export const PacsStudySchema = z.object({
  studyInstanceUid: z.string(),
  studyDate: z.string().nullable(),
  studyTime: z.string().nullable(),
  accessionNumber: z.string().nullable(),
  patientId: z.string().nullable(),
  patientName: z.string().nullable(),
  studyDescription: z.string().nullable(),
  modalities: z.array(z.string()),
  instances: z.number().int().nullable(),
});
export type PacsStudy = z.infer<typeof PacsStudySchema>;

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
