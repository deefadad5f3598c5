import os from 'node:os';
import pMap from 'p-map';
import type { DicomImporter, ImportResult } from './import-service.js';

/**
 * Files imported at once by a folder import: one per core, at most four. An import is mostly
 * hashing and copying bytes; two at a time use both cores of a small machine, more only queue.
 */
export const DEFAULT_IMPORT_CONCURRENCY = Math.min(4, Math.max(1, os.availableParallelism()));

export type FileOutcome = { ok: true; result: ImportResult } | { ok: false; error: unknown };

/**
 * Imports `files` with up to `concurrency` in flight; `onEach` hears every outcome as it comes
 * (for a progress bar) and the answer lists them in the order of `files`. A file that cannot be
 * read is an outcome, not a failure of the whole run.
 */
export async function importMany(
  importer: DicomImporter,
  files: readonly string[],
  options: {
    concurrency?: number;
    importedBy?: string | null;
    onEach?: (file: string, outcome: FileOutcome) => void;
  } = {},
): Promise<FileOutcome[]> {
  return pMap(
    files,
    async (file): Promise<FileOutcome> => {
      let outcome: FileOutcome;
      try {
        outcome = { ok: true, result: await importer.importFile(file, options.importedBy ?? null) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      options.onEach?.(file, outcome);
      return outcome;
    },
    { concurrency: options.concurrency ?? DEFAULT_IMPORT_CONCURRENCY },
  );
}
