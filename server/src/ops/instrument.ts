import type { LockService } from '../collab/lock.js';
import type { UpdateSink } from '../collab/update-writer.js';
import type { DicomImporter, ImportResult } from '../dicom/import-service.js';
import type { ServerMetrics } from './metrics.js';

/**
 * Wrappers that observe the real implementations from outside (main.ts wires them), so the
 * storage, lock and import code stays free of monitoring concerns.
 */

/** Times each stored batch; a failed one counts as a database error (the writer retries it). */
export function timedSink(sink: UpdateSink, metrics: ServerMetrics): UpdateSink {
  return {
    async append(batch) {
      const started = performance.now();
      try {
        const results = await sink.append(batch);
        metrics.persisted((performance.now() - started) / 1000);
        return results;
      } catch (error) {
        metrics.databaseError('append_updates');
        throw error;
      }
    },
  };
}

/** Counts lock attempts by outcome, whichever path (HTTP route or live panel) asked. */
export function countedLocks(locks: LockService, metrics: ServerMetrics): LockService {
  return {
    async lock(room, lockedBy, options) {
      const result = await locks.lock(room, lockedBy, options);
      metrics.lock(result.ok ? 'locked' : result.error.code);
      return result;
    },
    unlock: (room, unlockedBy, reason) => locks.unlock(room, unlockedBy, reason),
  };
}

/** Counts imports by outcome (upload, CLI and demo seed all import through this one path). */
export function countedImporter(importer: DicomImporter, metrics: ServerMetrics): DicomImporter {
  const count = (result: ImportResult) => {
    metrics.dicomImport(result.ok ? (result.value.duplicate ? 'duplicate' : 'imported') : result.error.code);
    return result;
  };
  return {
    importBytes: async (bytes, input) => count(await importer.importBytes(bytes, input)),
    importFile: async (file, importedBy, as) => count(await importer.importFile(file, importedBy, as)),
  };
}
