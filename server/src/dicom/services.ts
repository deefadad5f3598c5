import path from 'node:path';
import type { Logger } from 'pino';
import type { ScanFilesStore } from '../db/scan-files-store.js';
import { BlobStore } from './blob-store.js';
import { HashWorkers } from './hash-workers.js';
import { createFrameDecoders } from './codecs/frame-decoders.js';
import type { DeidProfile } from './deidentify.js';
import { DEFAULT_IMPORT_CONCURRENCY } from './import-many.js';
import { createDicomImporter, type DicomImporter, MAX_IMPORT_FILE_BYTES } from './import-service.js';
import { FileReadPool } from './read-pool.js';
import { DerivedFileCache } from './derived-cache.js';
import { renderPreview } from './preview.js';
import { renderThumbnail } from './thumbnail.js';
import { loadUidKey } from './uid-key.js';

/** Longest side of worklist thumbnails, in pixels. */
export const THUMBNAIL_SIDE = 256;

/** Everything that reads or writes DICOM files under the data directory. */
export interface DicomServices {
  /** De-identified files, `<dataDir>/dicom/ab/cdef...`. */
  readonly blobs: BlobStore;
  /** 256 px PNGs for worklists. */
  readonly thumbnails: DerivedFileCache;
  /** Quarter-resolution DICOM files the viewer paints first (preview.ts). */
  readonly previews: DerivedFileCache;
  readonly importer: DicomImporter;
  /** Where uploads are spooled before import (same disk as the store). */
  readonly spoolDir: string;
}

let hashWorkers: HashWorkers | undefined;
let readPool: FileReadPool | undefined;

/** One set of hash threads per process, started on first use; idle threads hold nothing open. */
function sharedHashWorkers(): HashWorkers {
  hashWorkers ??= new HashWorkers();
  return hashWorkers;
}

/** One pool of read buffers per process: one per file `cxr import` reads at once. */
function sharedReadPool(): FileReadPool {
  readPool ??= new FileReadPool(DEFAULT_IMPORT_CONCURRENCY, MAX_IMPORT_FILE_BYTES);
  return readPool;
}

/**
 * Builds the DICOM services over one data directory; the server, the CLI and the demo seed each
 * call it, and share files and UID key through the directory.
 */
export function createDicomServices(options: {
  dataDir: string;
  files: ScanFilesStore;
  profile: DeidProfile;
  log?: Logger;
}): DicomServices {
  const blobs = new BlobStore(path.join(options.dataDir, 'dicom'), '', sharedHashWorkers());
  const thumbs = new BlobStore(path.join(options.dataDir, 'thumbnails'), '.png');
  const previews = new BlobStore(path.join(options.dataDir, 'previews'), '.dcm');
  // One set of WASM codecs for import checks and thumbnails: each codec loads once.
  const decoders = createFrameDecoders();
  // Uploads and writes a killed process left behind; a failure here only costs disk space.
  blobs.sweepTemp().catch((error: unknown) => options.log?.warn({ err: error }, 'DICOM temp sweep failed'));
  return {
    blobs,
    thumbnails: new DerivedFileCache(blobs, thumbs, (bytes) =>
      renderThumbnail(bytes, { maxSide: THUMBNAIL_SIDE, decoders }),
    ),
    previews: new DerivedFileCache(blobs, previews, (bytes) => renderPreview(bytes, { decoders })),
    importer: createDicomImporter({
      files: options.files,
      blobs,
      uidKey: loadUidKey(options.dataDir),
      profile: options.profile,
      log: options.log,
      decoders,
      reads: sharedReadPool(),
    }),
    spoolDir: path.join(options.dataDir, 'dicom', '.tmp'),
  };
}
