import { createHash } from 'node:crypto';
import {
  type ConsensusRecord,
  DOC_ROOTS,
  type Decision,
  type Result,
  buildConsensusRecord,
  decisionKey,
  err,
  ok,
  readDecisions,
  readFindings,
  readGlobals,
} from '@cxr/shared';
import canonicalize from 'canonicalize';
import type * as Y from 'yjs';
import type { ConsensusStore, StoredConsensus } from '../db/consensus-store.js';
import type { RoomKey } from '../db/doc-store.js';
import type { Room } from './room.js';
import type { RoomRegistry } from './room-registry.js';

export type LockError = {
  code:
    | 'already_locked'
    | 'not_locked'
    | 'not_found'
    | 'conflict'
    | 'unavailable'
    | 'undecided'
    | 'no_global_label';
  message: string;
};

export interface LockOptions {
  /** Reject every candidate that has no decision yet, as part of the lock. */
  readonly rejectUndecided?: boolean;
  /** Refuse to lock while candidates are undecided (the live panel's rule); off for the bare primitive. */
  readonly requireDecided?: boolean;
  /**
   * Refuse to lock a reading without an accepted global label (VinDr-CXR: every image carries
   * at least one, "No finding" included); the live panel's rule R-LOCK-7.
   */
  readonly requireGlobalLabel?: boolean;
}

export interface LockService {
  lock(room: RoomKey, lockedBy: string, options?: LockOptions): Promise<Result<StoredConsensus, LockError>>;
  unlock(room: RoomKey, unlockedBy: string, reason: string): Promise<Result<{ version: number }, LockError>>;
}

/** SHA-256 (hex) of a record's canonical JSON (RFC 8785). */
export function canonicalJson(record: ConsensusRecord): string {
  const text = canonicalize(record);
  if (text === undefined) throw new Error('consensus record cannot be canonicalised');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Candidates (findings and proposed global labels) that have no decision yet. */
export function undecidedTargets(doc: Y.Doc): Decision['target'][] {
  const decided = new Set(readDecisions(doc).map((d) => decisionKey(d.target)));
  const targets: Decision['target'][] = [
    ...readFindings(doc).map((f) => ({ kind: 'finding' as const, id: f.id })),
    ...readGlobals(doc).map((g) => ({ kind: 'global' as const, label: g.label })),
  ];
  return targets.filter((t) => !decided.has(decisionKey(t)));
}

/** Global labels the panel accepted (a decision with outcome `accepted`). */
export function acceptedGlobals(doc: Y.Doc): string[] {
  return readDecisions(doc).flatMap((d) =>
    d.target.kind === 'global' && d.outcome === 'accepted' ? [d.target.label] : [],
  );
}

/**
 * Freezing a scan: refuse every later edit at once (synchronously, so nothing slips in), wait
 * until everything accepted before is stored and compacted, then store the consensus record,
 * the lock flag and the document's lock state in one transaction, and only then show the lock
 * to clients.
 * Unlocking (admins) reopens the scan; the old record stays and the next lock is a new version.
 */
export function createLockService(
  registry: RoomRegistry,
  store: ConsensusStore,
  /** Folds the stored log into the snapshot and its edits into the audit chain (R-AUDIT-9). */
  compact: (key: RoomKey) => Promise<unknown>,
): LockService {
  const withRoom = async <T>(key: RoomKey, run: (room: Room) => Promise<Result<T, LockError>>) => {
    const acquired = await registry.acquire(key);
    if (!acquired.ok) {
      return err<LockError>({
        code: acquired.close === 'NOT_FOUND' ? 'not_found' : 'unavailable',
        message: acquired.detail,
      });
    }
    try {
      return await run(acquired.room);
    } finally {
      registry.release(acquired.room);
    }
  };

  return {
    lock: (key, lockedBy, options = {}) =>
      withRoom(key, async (room) => {
        if (room.locked) return err({ code: 'already_locked', message: 'this scan is already locked' });
        const undecided = undecidedTargets(room.doc);
        if (options.requireDecided && !options.rejectUndecided && undecided.length > 0) {
          return err({
            code: 'undecided',
            message: `${undecided.length} candidate(s) are undecided: decide them or reject the undecided explicitly`,
          });
        }
        if (options.requireGlobalLabel && acceptedGlobals(room.doc).length === 0) {
          return err({
            code: 'no_global_label',
            message: 'accept at least one global label (for example "No finding") before locking',
          });
        }
        room.locked = true;
        try {
          if (options.rejectUndecided && undecided.length > 0) {
            const decidedAt = Date.now();
            await room.applyServerChange((doc) => {
              const decisions = doc.getMap(DOC_ROOTS.decisions);
              for (const target of undecided) {
                const decision: Decision = {
                  target,
                  outcome: 'rejected',
                  decidedBy: lockedBy,
                  decidedAt,
                  reason: 'rejected as undecided at lock',
                };
                decisions.set(decisionKey(target), decision);
              }
            });
          }
          await room.whenDurable();
          // Every edit before the lock goes into the audit chain ahead of the `lock` entry.
          await compact(key);
          const version = room.lockVersion + 1;
          const lockedAt = Date.now();
          const record = buildConsensusRecord(room.doc, {
            sessionId: key.sessionId,
            scanId: key.scanId,
            version,
            image: room.image,
            lockedBy,
            lockedAt,
          });
          const json = canonicalJson(record);
          const sha256 = sha256Hex(json);
          const metaUpdate = room.prepareServerUpdate((doc) => {
            const meta = doc.getMap(DOC_ROOTS.meta);
            meta.set('locked', true);
            meta.set('lockedAt', lockedAt);
            meta.set('lockedBy', lockedBy);
            meta.set('consensusHash', sha256);
            meta.set('consensusVersion', version);
          });
          const stored = {
            version,
            record: json,
            sha256,
            lockedBy,
            lockedAt: new Date(lockedAt).toISOString(),
          };
          if (!(await store.lock(key, { ...stored, metaUpdate }))) {
            room.locked = false;
            return err({ code: 'conflict', message: 'the scan was locked or changed by someone else' });
          }
          room.lockVersion = version;
          room.applyStored(metaUpdate);
          return ok(stored);
        } catch (error) {
          room.locked = false;
          throw error;
        }
      }),

    unlock: (key, unlockedBy, reason) =>
      withRoom(key, async (room) => {
        if (!room.locked) return err({ code: 'not_locked', message: 'this scan is not locked' });
        const metaUpdate = room.prepareServerUpdate((doc) => {
          const meta = doc.getMap(DOC_ROOTS.meta);
          meta.set('locked', false);
          meta.set('unlockedAt', Date.now());
          meta.set('unlockedBy', unlockedBy);
          meta.set('unlockReason', reason);
        });
        if (!(await store.unlock(key, { version: room.lockVersion, metaUpdate }))) {
          return err({ code: 'conflict', message: 'the scan was unlocked or changed by someone else' });
        }
        room.locked = false;
        room.applyStored(metaUpdate);
        return ok({ version: room.lockVersion });
      }),
  };
}
