import { createHash } from 'node:crypto';
import { type ConsensusRecord, DOC_ROOTS, type Result, buildConsensusRecord, err, ok } from '@cxr/shared';
import canonicalize from 'canonicalize';
import type { ConsensusStore, StoredConsensus } from '../db/consensus-store.js';
import type { RoomKey } from '../db/doc-store.js';
import type { RoomRegistry } from './room-registry.js';

export type LockError = {
  code: 'already_locked' | 'not_found' | 'conflict' | 'unavailable';
  message: string;
};

export interface LockService {
  lock(room: RoomKey, lockedBy: string): Promise<Result<StoredConsensus, LockError>>;
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

/**
 * Freezing a scan: refuse every later edit at once (synchronously, so nothing slips in), wait
 * until everything accepted before is stored, then store the consensus record, the lock flag
 * and the document's lock state in one transaction, and only then show the lock to clients.
 */
export function createLockService(registry: RoomRegistry, store: ConsensusStore): LockService {
  return {
    async lock(key, lockedBy) {
      const acquired = await registry.acquire(key);
      if (!acquired.ok) {
        return err({
          code: acquired.close === 'NOT_FOUND' ? 'not_found' : 'unavailable',
          message: acquired.detail,
        });
      }
      const room = acquired.room;
      try {
        if (room.locked) return err({ code: 'already_locked', message: 'this scan is already locked' });
        room.locked = true;
        try {
          await room.whenDurable();
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
          const won = await store.lock(key, { ...stored, metaUpdate });
          if (!won) {
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
      } finally {
        registry.release(room);
      }
    },
  };
}
