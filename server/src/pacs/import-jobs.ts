import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type {
  NewPacsImportItem,
  PacsImportItem,
  PacsImportJob,
  PacsImportsStore,
} from '../db/pacs-imports-store.js';
import type { PacsOriginsStore } from '../db/pacs-origins-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { DicomImporter } from '../dicom/import-service.js';
import { type DicomWebClient, DicomWebError } from '../dicomweb/dicomweb-client.js';
import { originalIdentity } from './original-identity.js';

export interface PacsImportRunnerDeps {
  readonly store: PacsImportsStore;
  readonly origins: Pick<PacsOriginsStore, 'put'>;
  readonly sessions: Pick<SessionsStore, 'addScans'>;
  readonly importer: Pick<DicomImporter, 'importBytes'>;
  readonly pacs: Pick<DicomWebClient, 'searchInstances' | 'retrieveInstance'>;
  readonly log: Logger;
  /** A claimed job stays this node's this long past its last settled instance. */
  readonly leaseMs: number;
  /** First wait after a pass that found the PACS or the image store away; doubled each time. */
  readonly retryMs: number;
  /** Instances retrieved and imported at once within a job. */
  readonly concurrency?: number;
  /** The longest sleep between passes (jobs other nodes queued are found within it). */
  readonly pollMs?: number;
  /** Called after each settled instance (the CLI's progress bar). */
  readonly onProgress?: (jobId: string) => void;
}

export interface PacsImportRunner {
  /** Creates a job (queued) and starts it soon on this node, unless another takes it first. */
  enqueue(job: {
    createdBy: string | null;
    sessionId: string | null;
    studyUids: readonly string[];
  }): Promise<string>;
  /** Runs a pass now. */
  kick(): void;
  /** Resolves when the job is done or failed (the CLI waits on it). */
  settled(jobId: string): Promise<PacsImportJob>;
  /** Stops taking work; an instance in flight finishes, and its job's lease runs out for another node. */
  stop(): Promise<void>;
}

/** Why a pass stopped: the PACS or the image store is away, and waiting may help. */
class Away extends Error {}

const POLL_MS = 5_000;
const MAX_RETRY_MS = 300_000;

/**
 * The PACS import worker of one node (R-PACS-5): each pass leases one due job, lists its
 * studies' instances once (QIDO-RS), then retrieves each pending instance (WADO-RS) and runs it
 * through the file import (same checks, de-identification and image store), keeping the
 * original identity and adding the scan to the job's session. An instance the PACS or the
 * import refuses fails alone; the PACS or the image store away postpones the whole job with
 * backoff, nothing half-stored (the import writes a row only after its image is stored).
 */
export function startPacsImports(deps: PacsImportRunnerDeps): PacsImportRunner {
  const { store, log } = deps;
  const nodeId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const concurrency = Math.max(1, deps.concurrency ?? 2);
  const pollMs = deps.pollMs ?? POLL_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const waiters = new Map<string, Array<(job: PacsImportJob) => void>>();

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(kick, Math.max(20, ms));
    timer.unref();
  };

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = pass().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        kick();
      }
    });
  }

  async function pass(): Promise<void> {
    let wait = pollMs;
    try {
      const job = await store.claim(nodeId, Date.now(), deps.leaseMs);
      if (job) {
        await run(job);
        wait = 0;
      } else {
        const due = await store.nextDueAt();
        if (due !== undefined) wait = Math.min(wait, due - Date.now());
      }
    } catch (error) {
      // The database is away: jobs wait in it.
      log.warn({ err: error }, 'PACS import pass failed');
    }
    await notifySettled();
    schedule(wait);
  }

  async function run(job: PacsImportJob): Promise<void> {
    try {
      if (!job.listed) await list(job);
      await importPending(job);
      if (stopped) return;
      const items = await store.items(job.id);
      if (items.some((i) => i.state === 'pending')) return; // lease lost mid-way: its holder goes on
      const anyDone = items.some((i) => i.state === 'done');
      await store.finish(job.id, nodeId, anyDone ? 'done' : 'failed', new Date());
      log.info(
        {
          jobId: job.id,
          done: items.filter((i) => i.state === 'done').length,
          failed: items.filter((i) => i.state === 'failed').length,
        },
        'PACS import finished',
      );
    } catch (error) {
      if (!(error instanceof Away)) throw error;
      const delay = Math.min(MAX_RETRY_MS, deps.retryMs * 2 ** job.attempts);
      await store.postpone(job.id, nodeId, error.message, Date.now() + delay);
      log.info({ jobId: job.id, delayMs: delay, reason: error.message }, 'PACS import postponed');
    }
  }

  /** Lists every study's instances; a study the PACS refuses or does not have fails alone. */
  async function list(job: PacsImportJob): Promise<void> {
    const items: NewPacsImportItem[] = [];
    for (const studyUid of job.studyUids) {
      try {
        const refs = await deps.pacs.searchInstances(studyUid);
        if (refs.length === 0) {
          items.push(studyFailure(studyUid, 'not_found', 'the PACS has no instances of this study'));
        }
        for (const ref of refs) {
          items.push({ studyUid, seriesUid: ref.seriesInstanceUid, sopUid: ref.sopInstanceUid });
        }
      } catch (error) {
        if (error instanceof DicomWebError && error.kind === 'unavailable') {
          throw new Away(`pacs_unavailable: ${error.message}`);
        }
        if (!(error instanceof DicomWebError)) throw error;
        items.push(
          studyFailure(studyUid, error.kind === 'not_found' ? 'not_found' : 'pacs_refused', error.message),
        );
      }
    }
    await store.addItems(job.id, nodeId, items);
  }

  async function importPending(job: PacsImportJob): Promise<void> {
    const queue = (await store.items(job.id)).filter((i) => i.state === 'pending');
    let away: Away | undefined;
    let lost = false;
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        if (stopped || away || lost) return;
        try {
          await importOne(job, item);
        } catch (error) {
          if (error instanceof Away) away = error;
          else throw error;
          return;
        }
        deps.onProgress?.(job.id);
        if (!(await store.renew(job.id, nodeId, Date.now(), deps.leaseMs))) lost = true;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (away) throw away;
  }

  async function importOne(job: PacsImportJob, item: PacsImportItem): Promise<void> {
    const ref = {
      studyInstanceUid: item.studyUid,
      seriesInstanceUid: item.seriesUid ?? '',
      sopInstanceUid: item.sopUid ?? '',
    };
    let bytes: Uint8Array;
    try {
      bytes = await deps.pacs.retrieveInstance(ref);
    } catch (error) {
      if (!(error instanceof DicomWebError)) throw error;
      if (error.kind === 'unavailable') throw new Away(`pacs_unavailable: ${error.message}`);
      const code = error.kind === 'not_found' ? 'not_found' : 'pacs_refused';
      await store.settleItem(job.id, item.position, {
        state: 'failed',
        errorCode: code,
        errorMessage: error.message,
      });
      return;
    }
    const result = await deps.importer.importBytes(bytes, { importedBy: job.createdBy });
    if (!result.ok) {
      if (result.error.code === 'store_unavailable')
        throw new Away(`store_unavailable: ${result.error.message}`);
      await store.settleItem(job.id, item.position, {
        state: 'failed',
        errorCode: result.error.code,
        errorMessage: result.error.message,
      });
      return;
    }
    const scanId = result.value.id;
    const origin = originalIdentity(bytes);
    if (origin) await deps.origins.put(scanId, origin);
    if (job.sessionId) await deps.sessions.addScans(job.sessionId, [scanId]);
    await store.settleItem(job.id, item.position, { state: 'done', scanId });
  }

  async function notifySettled(): Promise<void> {
    for (const [jobId, list] of waiters) {
      const job = await store.get(jobId).catch(() => undefined);
      if (job && (job.state === 'done' || job.state === 'failed')) {
        waiters.delete(jobId);
        for (const resolve of list) resolve(job);
      }
    }
  }

  kick();
  return {
    async enqueue(job) {
      const id = randomUUID();
      await store.create({ id, ...job }, Date.now());
      kick();
      return id;
    },
    kick,
    settled(jobId) {
      return new Promise((resolve) => {
        const list = waiters.get(jobId) ?? [];
        list.push(resolve);
        waiters.set(jobId, list);
        kick();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function studyFailure(studyUid: string, code: string, message: string): NewPacsImportItem {
  return { studyUid, seriesUid: null, sopUid: null, state: 'failed', errorCode: code, errorMessage: message };
}
