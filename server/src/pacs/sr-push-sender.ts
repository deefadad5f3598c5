import type { Result } from '@cxr/shared';
import type { Logger } from 'pino';
import type { ClaimedRow, OutboxKey, PacsOutboxStore } from '../db/pacs-outbox-store.js';
import { DicomWebError, type StowOutcome } from '../dicomweb/dicomweb-client.js';

/** The SR of one outbox row, or why it cannot be made (`permanent`: trying again will not help). */
export type BuiltSr = Result<
  { readonly bytes: Uint8Array; readonly sopInstanceUid: string },
  { readonly permanent: boolean; readonly message: string }
>;

export interface SrPushSenderDeps {
  readonly outbox: PacsOutboxStore;
  readonly build: (key: OutboxKey) => Promise<BuiltSr>;
  /** STOW-RS to the PACS. */
  readonly pacs: { store(instances: readonly (readonly Uint8Array[])[]): Promise<StowOutcome> };
  readonly log: Logger;
  /** This node's name on the leases it takes. */
  readonly nodeId: string;
  /** First wait after an attempt that found the PACS unavailable; doubled each time. */
  readonly retryMs: number;
  /** The longest wait between attempts. */
  readonly maxRetryMs: number;
  /** How long a claimed row stays this node's: longer than one STOW-RS request can take. */
  readonly leaseMs: number;
  /** The longest sleep between passes (rows other nodes queued are found within it). */
  readonly pollMs: number;
  /** How often the pass also queues locks that have no row (R-PUSH-2). */
  readonly reconcileEveryMs: number;
}

export interface SrPushSender {
  /** Runs a pass now (after a lock or a re-push on this node). */
  kick(): void;
  /** Stops sending; waits a moment for an attempt in flight, whose result is then dropped. */
  stop(): Promise<void>;
}

/** Rows leased at a time: sent one after another, then the next batch at once. */
const BATCH = 8;
/** However soon a row falls due, passes are at least this far apart (no spinning). */
const MIN_WAIT_MS = 20;
/** How long `stop` waits for an attempt in flight. */
const STOP_WAIT_MS = 2_000;

/**
 * The per-node sender of the SR outbox (R-PUSH-3..5). Each pass (at start, after `kick`, and
 * whenever the earliest pending row falls due, at most `pollMs` apart) queues what the
 * reconciliation finds, leases due rows and sends each by STOW-RS: acknowledged -> `sent` for
 * good; PACS unavailable -> due again after an exponential backoff; refused -> `failed`.
 */
export function startSrPushSender(deps: SrPushSenderDeps): SrPushSender {
  const { outbox, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let lastReconcile = Number.NEGATIVE_INFINITY;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(kick, Math.max(MIN_WAIT_MS, ms));
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
    let wait = deps.pollMs;
    try {
      const now = Date.now();
      if (now - lastReconcile >= deps.reconcileEveryMs) {
        const queued = await outbox.reconcile(now);
        lastReconcile = now;
        if (queued.length > 0)
          log.info({ queued: queued.length }, 'SR push: queued locks that had no outbox row');
      }
      const claimed = await outbox.claimDue(deps.nodeId, now, deps.leaseMs, BATCH);
      for (const row of claimed) {
        if (stopped) return;
        await attempt(row);
      }
      if (claimed.length === BATCH) wait = 0;
      else {
        const due = await outbox.nextDueAt();
        if (due !== undefined) wait = Math.min(wait, due - Date.now());
      }
    } catch (error) {
      // The database is away: the rows wait in it; try again after a poll.
      log.warn({ err: error }, 'SR push pass failed');
    }
    schedule(wait);
  }

  async function attempt(row: ClaimedRow): Promise<void> {
    const where = { sessionId: row.sessionId, scanId: row.scanId, version: row.version };
    const retry = async (message: string) => {
      if (stopped) return;
      const delay = Math.min(deps.maxRetryMs, deps.retryMs * 2 ** row.attempts);
      await outbox.markRetry(row, deps.nodeId, message, Date.now() + delay);
      log.info(
        { ...where, attempts: row.attempts + 1, delayMs: delay },
        'SR push: PACS unavailable, will retry',
      );
    };
    const fail = async (message: string) => {
      if (stopped) return;
      await outbox.markFailed(row, deps.nodeId, message);
      log.warn({ ...where, reason: message }, 'SR push failed');
    };

    let built: BuiltSr;
    try {
      built = await deps.build(row);
    } catch (error) {
      // Reading the image (an image store that is away) or the database: try again later.
      return retry(`the SR could not be made: ${(error as Error).message}`);
    }
    if (!built.ok) return built.error.permanent ? fail(built.error.message) : retry(built.error.message);

    let outcome: StowOutcome;
    try {
      outcome = await deps.pacs.store([[built.value.bytes]]);
    } catch (error) {
      if (error instanceof DicomWebError && error.kind !== 'unavailable') return fail(error.message);
      return retry((error as Error).message);
    }
    const uid = built.value.sopInstanceUid;
    if (outcome.stored.includes(uid)) {
      // Recorded even after `stop`: the PACS has it, and a restart would only send it again.
      await outbox.markSent(row, uid, new Date());
      log.info({ ...where }, 'SR push: the PACS stored the consensus SR');
      return;
    }
    const refusal = outcome.failed.find((f) => f.sopInstanceUid === uid) ?? outcome.failed[0];
    // A 200 that names the SR neither stored nor failed (Orthanc, when its storage is full)
    // did not store it either.
    return fail(
      refusal
        ? `the PACS refused the SR: ${refusal.reason}`
        : 'the PACS answered STOW-RS without storing the SR or saying why',
    );
  }

  kick();
  return {
    kick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) {
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([running, new Promise((r) => (bound = setTimeout(r, STOP_WAIT_MS)))]);
        clearTimeout(bound);
      }
    },
  };
}
