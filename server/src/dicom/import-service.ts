import path from 'node:path';
import type { Result } from '@cxr/shared';
import type { Logger } from 'pino';
import type { NewScanFile, ScanFile, ScanFilesStore } from '../db/scan-files-store.js';
import type { Staged } from './blob-store.js';
import { type ImageStore, ImageStoreError } from './image-store.js';
import { createFrameDecoders, type FrameDecoders } from './codecs/frame-decoders.js';
import { decodePixels } from './decode.js';
import { type DeidProfile, deidentifyParsed } from './deidentify.js';
import { type DicomErrorCode, dicomError } from './errors.js';
import { type DicomInfo, describeParsed, MAX_IMAGE_SIDE } from './inspect.js';
import { parseDicomBytes } from './parse.js';
import { type FileReadPool, FileTooLargeError } from './read-pool.js';
import { describeTransferSyntax, EXPLICIT_VR_LE } from './transfer-syntax.js';
import { createUidMapper } from './uid-mapper.js';

/** Why an import was refused: a library error (400/413/415/422) or an id clash (409). */
export interface ImportRejection {
  readonly code: DicomErrorCode | 'conflict' | 'store_unavailable';
  readonly status: 400 | 409 | 413 | 415 | 422 | 503;
  readonly message: string;
}

/** What an import answers: the scan (new, or the one this content already is). */
export interface ImportedScan {
  readonly id: string;
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly photometric: string;
  readonly pixelSpacingMm: [number, number] | null;
  readonly windows: ScanFile['windows'];
  readonly transferSyntaxUid: string;
  readonly transferSyntax: string;
  readonly lossy: boolean;
  readonly bytes: number;
  readonly sha256: string;
  /** True when this content was imported before; nothing new was stored. */
  readonly duplicate: boolean;
}

export type ImportResult = Result<ImportedScan, ImportRejection>;

export interface ImportInput {
  /** Name the upload had; gives the image id of a file without a SOP Instance UID. */
  readonly fileName?: string | undefined;
  readonly importedBy: string | null;
}

export interface DicomImporter {
  importBytes(bytes: Uint8Array, input: ImportInput): Promise<ImportResult>;
  /**
   * Reads a file from disk and imports it under its own name, or under `as.fileName` (an upload
   * spooled to a temp file: the name it was sent with, if any). A file larger than
   * MAX_IMPORT_FILE_BYTES is refused unread.
   */
  importFile(
    file: string,
    importedBy: string | null,
    as?: { fileName: string | undefined },
  ): Promise<ImportResult>;
}

export interface ImporterDeps {
  readonly files: ScanFilesStore;
  readonly blobs: Pick<ImageStore, 'kind' | 'stage' | 'hash' | 'remove'>;
  readonly uidKey: Uint8Array;
  readonly profile: DeidProfile;
  readonly log?: Logger | undefined;
  /** Shared WASM codecs (each loads once); a fresh set by default. */
  readonly decoders?: FrameDecoders;
  /** Buffers files are read into (one pool per process, see services.ts). */
  readonly reads: FileReadPool;
}

/**
 * The largest file `importFile` reads: a native image of the largest accepted size at 16 bits
 * with room for a header and a compressed stream that came out a little larger. Anything
 * bigger could not pass validation, so it is refused before memory is taken for it.
 */
export const MAX_IMPORT_FILE_BYTES = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE * 2 + 16 * 1024 * 1024;

/**
 * The one import path, shared by HTTP uploads, the CLI and the demo seed: validate -> de-identify
 * -> store the bytes -> add the row. Nothing reaches disk before the file passed every check;
 * the original bytes and UIDs are never stored, and nothing from the file is logged except
 * its image id, size and transfer syntax.
 */
export function createDicomImporter(deps: ImporterDeps): DicomImporter {
  const uidMap = createUidMapper(deps.uidKey);
  const decoders = deps.decoders ?? createFrameDecoders();

  async function importBytes(bytes: Uint8Array, input: ImportInput): Promise<ImportResult> {
    const prepared = await prepare(bytes, input.fileName);
    if (!prepared.ok) return prepared;
    const { info, parts } = prepared.value;
    const staged = await deps.blobs.stage(parts);
    let committed = false;
    try {
      // De-identification is deterministic (UIDs are mapped with this installation's key), so
      // one upload always becomes the same stored bytes: their hash, which content addressing
      // needs anyway, is the idempotency key. Hashing the upload too cost a second pass over it.
      const known = await deps.files.bySha256(staged.sha256);
      if (known) return { ok: true, value: answer(known, true) };
      // No SOP Instance UID and no name: the content itself names the scan.
      const scanId = info.imageId ?? staged.sha256.slice(0, 32);
      const existing = await deps.files.get(scanId);
      // Another import of the same file finished between the two lookups.
      if (existing?.sha256 === staged.sha256) return { ok: true, value: answer(existing, true) };
      if (existing) return conflict(`scan ${scanId} already exists with different content`);

      try {
        await staged.commit();
      } catch (error) {
        // The archive did not take the file: nothing is stored and no row is written (R-IMG-1).
        if (error instanceof ImageStoreError) {
          return { ok: false, error: { code: 'store_unavailable', status: 503, message: error.message } };
        }
        throw error;
      }
      committed = true;
      const outcome = await deps.files.insert(scanFileRow(scanId, info, staged, input));
      if (outcome.kind === 'inserted') {
        deps.log?.info(
          { scanId, bytes: staged.bytes, transferSyntax: outcome.file.transferSyntaxUid },
          'dicom imported',
        );
        return { ok: true, value: answer(outcome.file, false) };
      }
      if (outcome.kind === 'same_content') return { ok: true, value: answer(outcome.file, true) };
      // id_taken: only drop the bytes if no other scan shares them (identical content).
      if (!(await deps.files.referenced(staged.sha256))) await deps.blobs.remove(staged.sha256);
      const now = await deps.files.get(scanId);
      if (now?.sha256 === staged.sha256) return { ok: true, value: answer(now, true) };
      return conflict(outcome.reason);
    } finally {
      if (!committed) await staged.discard();
    }
  }

  /** Validation and de-identification: everything before anything is written. */
  async function prepare(
    bytes: Uint8Array,
    fileName: string | undefined,
  ): Promise<Result<{ info: DicomInfo; parts: Uint8Array[] }, ImportRejection>> {
    const parsed = parseDicomBytes(bytes);
    if (!parsed.ok) return parsed;
    const inspected = describeParsed(parsed.value, fileName);
    if (!inspected.ok) return inspected;
    // A file without SOP Instance UID (VinDr-CXR's) is keyed by its hash for new UIDs: hashed
    // off the event loop, as its stored bytes will be.
    const sourceSha256 = inspected.value.hasSopInstanceUid ? undefined : await deps.blobs.hash([bytes]);
    const deid = deidentifyParsed(parsed.value, inspected.value, bytes, {
      profile: deps.profile,
      uidMap,
      sourceSha256,
      // A DICOMweb archive files instances by Study/Series UID and refuses one without them
      // (the VinDr profile keeps none): written in then, with the values the SR would derive.
      completeUids: deps.blobs.kind === 'dicomweb',
    });
    if (!deid.ok) return deid;
    if (inspected.value.encapsulated) {
      // Only a decoder finds a corrupt codestream; refuse it now rather than at first view. The
      // stored file carries the same fragments, so decoding the upload checks them. Native
      // pixel data needs no decoding: inspect already checked its length.
      const decoded = await decodePixels(bytes, { decoders });
      if (!decoded.ok) return decoded;
    }
    return { ok: true, value: { info: inspected.value, parts: deid.value.parts } };
  }

  function scanFileRow(scanId: string, info: DicomInfo, staged: Staged, input: ImportInput): NewScanFile {
    return {
      scanId,
      rows: info.rows,
      columns: info.columns,
      sha256: staged.sha256,
      bytes: staged.bytes,
      // deidentify rewrites native files as explicit VR little endian; fragments stay as they are.
      transferSyntaxUid: info.encapsulated ? info.transferSyntaxUid : EXPLICIT_VR_LE,
      bitsAllocated: info.bitsAllocated,
      bitsStored: info.bitsStored,
      highBit: info.highBit,
      pixelRepresentation: info.pixelRepresentation,
      photometric: info.photometric,
      pixelSpacingMm: info.pixelSpacingMm ?? null,
      windows: info.windows,
      lossy: info.lossy,
      deidProfile: deps.profile,
      importedBy: input.importedBy,
    };
  }

  return {
    importBytes,
    async importFile(file, importedBy, as = { fileName: path.basename(file) }) {
      const { fileName } = as;
      try {
        // The bytes are lent by the pool: importBytes is done with them when it returns (the
        // stored file is written and hashed, the answer holds copies).
        return await deps.reads.withFile(file, (bytes) => importBytes(bytes, { fileName, importedBy }));
      } catch (error) {
        if (!(error instanceof FileTooLargeError)) throw error;
        return { ok: false, error: dicomError('dicom_too_large', error.message) };
      }
    },
  };
}

function conflict(message: string): ImportResult {
  return { ok: false, error: { code: 'conflict', status: 409, message } };
}

function answer(file: ScanFile, duplicate: boolean): ImportedScan {
  return {
    id: file.scanId,
    rows: file.rows,
    columns: file.columns,
    bitsAllocated: file.bitsAllocated,
    bitsStored: file.bitsStored,
    photometric: file.photometric,
    pixelSpacingMm: file.pixelSpacingMm,
    windows: file.windows,
    transferSyntaxUid: file.transferSyntaxUid,
    transferSyntax: describeTransferSyntax(file.transferSyntaxUid),
    lossy: file.lossy,
    bytes: file.bytes,
    sha256: file.sha256,
    duplicate,
  };
}
