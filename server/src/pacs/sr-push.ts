import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { type Result, err, ok } from '@cxr/shared';
import type { Logger } from 'pino';
import type { LockService } from '../collab/lock.js';
import type { RoomKey } from '../db/doc-store.js';
import type { OutboxKey, PacsOutboxStore } from '../db/pacs-outbox-store.js';
import type { ExportService, OriginalIdentity } from '../export/export-service.js';
import {
  type BuiltSr,
  type SrPushSender,
  type SrPushSenderDeps,
  startSrPushSender,
} from './sr-push-sender.js';
import { type PacsPushStatus, pushStatus } from './sr-push-status.js';

/**
 * What the push needs to know of a scan imported from the PACS (the PACS import's origins
 * store answers it); undefined for an uploaded file.
 */
export interface OriginLookup {
  get(scanId: string): Promise<OriginalIdentity | undefined>;
}

export interface SrPushDeps {
  readonly outbox: PacsOutboxStore;
  readonly exports: Pick<ExportService, 'pacsSr'>;
  readonly origins: OriginLookup;
  readonly pacs: SrPushSenderDeps['pacs'];
  readonly log: Logger;
  readonly retryMs: number;
  readonly leaseMs: number;
  readonly pollMs?: number;
  readonly reconcileEveryMs?: number;
}

/** The consensus push to the PACS as the rest of the server sees it. */
export interface SrPush {
  /** Queues a version that just locked (its lock has committed) and sends it soon (R-PUSH-1). */
  lockCommitted(room: RoomKey, version: number): Promise<void>;
  /** The push status of one locked version; null when it is not queued. */
  status(key: OutboxKey): Promise<PacsPushStatus | null>;
  /** An admin's re-push (R-PUSH-7): due now, attempts kept; a version already sent is refused. */
  repush(key: OutboxKey): Promise<Result<PacsPushStatus, { code: 'already_sent'; status: PacsPushStatus }>>;
  /** Stops this node's sender. */
  close(): Promise<void>;
}

/** Cap of the backoff between attempts while the PACS is unavailable. */
export const MAX_RETRY_MS = 3_600_000;
const POLL_MS = 5_000;
const RECONCILE_EVERY_MS = 60_000;

/**
 * Starts pushing locked consensus to the PACS: records when pushing began (first start with a
 * PACS), reconciles and starts this node's sender. Only called when a PACS is configured.
 */
export async function startSrPush(deps: SrPushDeps): Promise<SrPush> {
  const { outbox, log } = deps;
  await outbox.markPushSince(new Date());

  const build = async (key: OutboxKey): Promise<BuiltSr> => {
    const origin = await deps.origins.get(key.scanId);
    let sr: Awaited<ReturnType<typeof deps.exports.pacsSr>>;
    try {
      sr = await deps.exports.pacsSr(key, origin);
    } catch (error) {
      // An image the store does not hold will not appear by waiting; one it cannot reach now may.
      if ((error as { code?: unknown }).code === 'image_missing') {
        return err({ permanent: true, message: `image_missing: ${(error as Error).message}` });
      }
      throw error;
    }
    if (!sr.ok) return err({ permanent: true, message: `${sr.error.code}: ${sr.error.message}` });
    return ok({ bytes: sr.value.bytes, sopInstanceUid: sr.value.sopInstanceUid });
  };
  const sender: SrPushSender = startSrPushSender({
    outbox,
    build,
    pacs: deps.pacs,
    log,
    nodeId: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    retryMs: deps.retryMs,
    maxRetryMs: MAX_RETRY_MS,
    leaseMs: deps.leaseMs,
    pollMs: deps.pollMs ?? POLL_MS,
    reconcileEveryMs: deps.reconcileEveryMs ?? RECONCILE_EVERY_MS,
  });

  const enqueue = async (room: RoomKey, version: number) => {
    // The lock has committed. A failure here loses nothing: the reconciliation finds the lock.
    try {
      await outbox.enqueue({ ...room, version }, Date.now());
      sender.kick();
    } catch (error) {
      log.warn(
        { err: error, ...room, version },
        'SR push: queueing after the lock failed; the reconciliation will',
      );
    }
  };

  return {
    lockCommitted: enqueue,
    async status(key) {
      const row = await outbox.get(key);
      return row ? pushStatus(row) : null;
    },
    async repush(key) {
      const row = await outbox.requeue(key, Date.now());
      if (row.state === 'sent') return err({ code: 'already_sent', status: pushStatus(row) });
      sender.kick();
      return ok(pushStatus(row));
    },
    close: () => sender.stop(),
  };
}

/**
 * The lock service every lock goes through (HTTP and the live panel), queueing each successful
 * lock's SR once the lock has committed. `push` is read at each lock: the push starts after the
 * lock service is built, and is undefined without a PACS.
 */
export function pushingLocks(locks: LockService, push: () => SrPush | undefined): LockService {
  return {
    lock: async (room, lockedBy, options) => {
      const result = await locks.lock(room, lockedBy, options);
      if (result.ok) await push()?.lockCommitted(room, result.value.version);
      return result;
    },
    unlock: (room, unlockedBy, reason) => locks.unlock(room, unlockedBy, reason),
  };
}
