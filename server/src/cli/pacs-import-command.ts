import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Config } from '../config.js';
import { openStores } from '../db/stores.js';
import { dicomServicesFor } from '../dicom/services.js';
import { DicomWebClient } from '../dicomweb/dicomweb-client.js';
import { createLogger } from '../logger.js';
import { startPacsImports } from '../pacs/import-jobs.js';
import { type PacsImportView, importView } from '../pacs/import-view.js';

/** Why the CLI could not start an import: exit code 2 (usage), as other CLI refusals. */
export class PacsImportUsageError extends Error {}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * `cxr import --pacs --study <UID>... [--session <id>]` (R-PACS-7): the same durable job as
 * `POST /api/pacs/imports`, run by this process with a progress bar. A server running on the
 * same database may take part of the job (leases); the CLI waits until the job is settled.
 */
export async function runPacsImport(
  config: Config,
  studies: readonly string[],
  options: { sessionId?: string | undefined; progress?: boolean } = {},
): Promise<PacsImportView> {
  if (!config.pacs) throw new PacsImportUsageError('no PACS is configured: set PACS_URL');
  if (studies.length === 0)
    throw new PacsImportUsageError('name at least one study: --study <StudyInstanceUID>');
  const bad = studies.find((s) => !UID.test(s) || s.length > 64);
  if (bad) throw new PacsImportUsageError(`not a DICOM UID: ${bad}`);
  const stores = await openStores({
    databaseUrl: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
    ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
  });
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const bar = new SingleBar({
    format: '{bar} {value}/{total} instances | {done} imported, {failed} failed {note}',
    stream: process.stderr,
    hideCursor: true,
  });
  try {
    if (options.sessionId && !(await stores.sessions.exists(options.sessionId))) {
      throw new PacsImportUsageError(`no session ${options.sessionId}`);
    }
    const { importer } = dicomServicesFor(config, stores, log);
    const show = async (id: string) => {
      const job = await stores.pacsImports.get(id);
      if (!job) return;
      const view = importView(job, await stores.pacsImports.items(id));
      bar.setTotal(Math.max(view.total, 1));
      bar.update(view.done + view.failed, {
        done: view.done,
        failed: view.failed,
        note: view.lastError ? `(waiting: ${view.lastError.split(':')[0]})` : '',
      });
    };
    let jobId = '';
    const runner = startPacsImports({
      store: stores.pacsImports,
      origins: stores.pacsOrigins,
      sessions: stores.sessions,
      importer,
      pacs: new DicomWebClient(config.pacs, { timeoutMs: config.dicomWebTimeoutMs }),
      log,
      leaseMs: 2 * config.dicomWebTimeoutMs + config.pacsJobLeaseMs,
      retryMs: config.pacsPushRetryMs,
      pollMs: 500,
      onProgress: (id) => {
        if (id === jobId) void show(id);
      },
    });
    try {
      if (options.progress !== false) bar.start(1, 0, { done: 0, failed: 0, note: '' });
      // CLI imports have no user, as `cxr import` of files.
      jobId = await runner.enqueue({
        createdBy: null,
        sessionId: options.sessionId ?? null,
        studyUids: [...new Set(studies)],
      });
      const job = await runner.settled(jobId);
      await show(jobId);
      return importView(job, await stores.pacsImports.items(jobId));
    } finally {
      bar.stop();
      await runner.stop();
    }
  } finally {
    await stores.db.close();
  }
}

export function formatPacsImport(view: PacsImportView): string {
  const lines = [`job ${view.id}: ${view.state}`, `imported: ${view.done}`, `failed: ${view.failed}`];
  for (const e of view.errors)
    lines.push(`  ${e.sopInstanceUid ?? `study ${e.studyInstanceUid}`}: ${e.code}: ${e.message}`);
  return lines.join('\n');
}
