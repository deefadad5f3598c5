import path from 'node:path';
import type { Logger } from 'pino';
import type { ScanFilesStore } from '../db/scan-files-store.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Config } from '../config.js';
import { DicomWebClient } from '../dicomweb/dicomweb-client.js';
import { BlobStore } from './blob-store.js';
import { dicomWebImageStore, type ImageStore, localImageStore } from './image-store.js';
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
  /** De-identified files on this node, `<dataDir>/dicom/ab/cdef...` (the archive's cache: `dicom-cache/`). */
  readonly blobs: BlobStore;
  /** Where images are stored and read: the local directory or the DICOMweb archive (R-IMG-*). */
  readonly images: ImageStore;
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
  /** The cluster's shared UID key (DICOM_UID_KEY); else the one kept in the data directory. */
  uidKey?: Uint8Array | undefined;
  /** IMAGE_STORE=dicomweb: the archive, and this node's bounded cache of it under `dicom-cache/`. */
  archive?: { client: DicomWebClient; cacheBytes: number; db: Kysely<Database> } | undefined;
}): DicomServices {
  const archive = options.archive;
  const blobs = new BlobStore(
    path.join(options.dataDir, archive ? 'dicom-cache' : 'dicom'),
    '',
    sharedHashWorkers(),
  );
  const images = archive
    ? dicomWebImageStore({
        client: archive.client,
        cache: blobs,
        cacheBytes: archive.cacheBytes,
        db: archive.db,
      })
    : localImageStore(blobs);
  const thumbs = new BlobStore(path.join(options.dataDir, 'thumbnails'), '.png');
  const previews = new BlobStore(path.join(options.dataDir, 'previews'), '.dcm');
  // One set of WASM codecs for import checks and thumbnails: each codec loads once.
  const decoders = createFrameDecoders();
  // Uploads and writes a killed process left behind; a failure here only costs disk space.
  blobs.sweepTemp().catch((error: unknown) => options.log?.warn({ err: error }, 'DICOM temp sweep failed'));
  return {
    blobs,
    images,
    thumbnails: new DerivedFileCache(images, thumbs, (bytes) =>
      renderThumbnail(bytes, { maxSide: THUMBNAIL_SIDE, decoders }),
    ),
    previews: new DerivedFileCache(images, previews, (bytes) => renderPreview(bytes, { decoders })),
    importer: createDicomImporter({
      files: options.files,
      blobs: images,
      uidKey: options.uidKey ?? loadUidKey(options.dataDir),
      profile: options.profile,
      log: options.log,
      decoders,
      reads: sharedReadPool(),
    }),
    spoolDir: path.join(blobs.root, '.tmp'),
  };
}

/** The DICOM services a server or CLI command of this configuration uses (image store, UID key). */
export function dicomServicesFor(
  config: Config,
  stores: { scanFiles: ScanFilesStore; db: { kysely: Kysely<Database> } },
  log?: Logger,
): DicomServices {
  return createDicomServices({
    dataDir: config.dataDir,
    files: stores.scanFiles,
    profile: config.deidProfile,
    ...(log ? { log } : {}),
    uidKey: config.dicomUidKey,
    archive:
      config.imageStore.kind === 'dicomweb'
        ? {
            client: new DicomWebClient(config.imageStore.peer, { timeoutMs: config.dicomWebTimeoutMs }),
            cacheBytes: config.imageCacheBytes,
            db: stores.db.kysely,
          }
        : undefined,
  });
}
