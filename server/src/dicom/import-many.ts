import os from 'node:os';
import pMap from 'p-map';
import type { DicomImporter, ImportResult } from './import-service.js';

/**
 * Files imported at once by a folder import: two per core, at most eight. An import hashes on
 * a worker thread and waits on the disk for the rest; with two per core one file's hashing
 * overlaps another's reads and writes (bench/dicom-import.ts: 46-50% of a plain copy at four
 * on two cores, 39-48% at two).
 */
export const DEFAULT_IMPORT_CONCURRENCY = Math.min(8, 2 * Math.max(1, os.availableParallelism()));

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
