import { type PacsImportView, PacsImportViewSchema } from '@cxr/shared';
export { PacsImportViewSchema, type PacsImportView };
import type { PacsImportItem, PacsImportJob } from '../db/pacs-imports-store.js';

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
