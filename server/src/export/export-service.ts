import { createHash } from 'node:crypto';
import {
  type ConsensusImage,
  type ConsensusRecord,
  consensusContent,
  consensusImage,
  type ExportManifest,
  type ManifestScan,
  parseConsensusRecord,
  type Result,
} from '@cxr/shared';
import canonicalize from 'canonicalize';
import type { ConsensusStore } from '../db/consensus-store.js';
import type { ScanFilesStore } from '../db/scan-files-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { ImageStore } from '../dicom/image-store.js';
import { type ImageRefs, readImageRefs } from './image-refs.js';
import { type OriginalModules, srSopInstanceUid, writeSr } from './sr-writer.js';

export interface ExportDeps {
  readonly sessions: SessionsStore;
  readonly consensus: ConsensusStore;
  readonly scanFiles: ScanFilesStore;
  readonly blobs: Pick<ImageStore, 'read'>;
  readonly users: UsersStore;
}

/** Expected refusals; the HTTP edge maps them to 404 / 409 / 422. */
export type ExportError =
  | { code: 'not_found'; message: string }
  | { code: 'not_locked'; message: string }
  | { code: 'unprocessable'; message: string };

/** What a session-wide (or one-scan) export is made of. */
export interface ExportSet {
  readonly manifest: ExportManifest;
  /** Locked scans in session order, with their consensus content. */
  readonly images: ConsensusImage[];
  /** The newest lock among `images` (ms), the COCO dataset's date. */
  readonly lockedAtMs: number;
  /** The hash the answer carries: the record's for one scan, the manifest digest otherwise. */
  readonly sha256: string;
  /** Set for a one-scan export. */
  readonly version?: number;
}

export interface SrFile {
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly version: number;
  readonly sopInstanceUid: string;
}

/** A scan imported from the PACS as the PACS knows it (kept server-side, readable by no API). */
export interface OriginalIdentity extends OriginalModules {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}

const fail = (code: ExportError['code'], message: string): Result<never, ExportError> => ({
  ok: false,
  error: { code, message },
});

/** SHA-256 of the RFC 8785 canonical JSON of the manifest's scan list (R-EXPORT-6). */
export function manifestDigest(scans: readonly ManifestScan[]): string {
  return createHash('sha256')
    .update(canonicalize(scans) ?? '')
    .digest('hex');
}

/**
 * Reads locked consensus records and turns them into export sets and SR files. Access control is
 * the caller's (routes: panel and admins; CLI: whoever can read the data directory).
 */
export function createExportService(deps: ExportDeps) {
  /** Every scan of the session with its status, and the records of the locked ones. */
  async function collect(sessionId: string) {
    const session = await deps.sessions.get(sessionId);
    if (!session) return undefined;
    const scans: ManifestScan[] = [];
    const records: Array<{ record: ConsensusRecord; sha256: string }> = [];
    for (const scan of session.scans) {
      // A scan unlocked after a lock keeps its old records, but they are no longer the consensus.
      const stored = scan.locked
        ? await deps.consensus.latest({ sessionId, scanId: scan.scanId })
        : undefined;
      if (!stored) {
        scans.push({ scanId: scan.scanId, position: scan.position, status: 'unlocked' });
        continue;
      }
      scans.push({
        scanId: scan.scanId,
        position: scan.position,
        status: 'locked',
        version: stored.version,
        sha256: stored.sha256,
        lockedBy: stored.lockedBy,
        lockedAt: stored.lockedAt,
      });
      records.push({ record: parseConsensusRecord(stored.record), sha256: stored.sha256 });
    }
    return { session, scans, records };
  }

  return {
    /** R-EXPORT-6: the manifest of a session, whether or not anything is locked. */
    async manifest(sessionId: string): Promise<Result<ExportManifest, ExportError>> {
      const found = await collect(sessionId);
      if (!found) return fail('not_found', 'session not found');
      return { ok: true, value: toManifest(found.session.id, found.session.name, found.scans) };
    },

    /**
     * R-EXPORT-6: the locked scans of a session (unlocked ones skipped and listed in the
     * manifest), or one scan when `scanId` is given (R-EXPORT-8: 409 when it is not locked).
     */
    async exportSet(sessionId: string, scanId?: string): Promise<Result<ExportSet, ExportError>> {
      const found = await collect(sessionId);
      if (!found) return fail('not_found', 'session not found');
      const manifest = toManifest(found.session.id, found.session.name, found.scans);
      let records = found.records;
      if (scanId !== undefined) {
        if (!found.scans.some((s) => s.scanId === scanId))
          return fail('not_found', 'scan not in this session');
        records = records.filter((r) => r.record.scanId === scanId);
        if (records.length === 0)
          return fail('not_locked', `scan ${scanId} is not locked; lock it to export it`);
      } else if (records.length === 0) {
        return fail('not_locked', 'no scan of this session is locked; lock scans to export them');
      }
      const images = records.map((r) => consensusImage(r.record, r.sha256));
      const one = scanId !== undefined ? records[0] : undefined;
      return {
        ok: true,
        value: {
          manifest,
          images,
          lockedAtMs: Math.max(...records.map((r) => r.record.lockedAt)),
          sha256: one ? one.sha256 : manifest.digest,
          ...(one ? { version: one.record.version } : {}),
        },
      };
    },

    /** R-EXPORT-7: the DICOM SR of one locked scan; needs the scan's imported DICOM file. */
    async sr(sessionId: string, scanId: string): Promise<Result<SrFile, ExportError>> {
      const state = await deps.sessions.scanState(sessionId, scanId);
      if (!state) return fail('not_found', 'scan not in this session');
      const stored = state.locked ? await deps.consensus.latest({ sessionId, scanId }) : undefined;
      if (!stored) return fail('not_locked', `scan ${scanId} is not locked; lock it to export it`);
      const refs = await storedImageRefs(scanId);
      if (!refs.ok) return refs;
      return { ok: true, value: await render(sessionId, scanId, stored, refs.value) };
    },

    /**
     * R-PUSH-4: the SR of one lock version as it goes to the PACS. With `original` (a scan
     * imported from the PACS) it references the original UIDs and carries the original patient
     * and study modules; otherwise it is the export's SR, byte for byte.
     */
    async pacsSr(
      key: { sessionId: string; scanId: string; version: number },
      original?: OriginalIdentity,
    ): Promise<Result<SrFile, ExportError>> {
      const stored = (await deps.consensus.all(key)).find((c) => c.version === key.version);
      if (!stored) return fail('not_found', `no consensus version ${key.version} of scan ${key.scanId}`);
      if (!original) {
        const refs = await storedImageRefs(key.scanId);
        if (!refs.ok) return refs;
        return { ok: true, value: await render(key.sessionId, key.scanId, stored, refs.value) };
      }
      const image: ImageRefs = {
        sopClassUid: original.sopClassUid,
        sopInstanceUid: original.sopInstanceUid,
        studyInstanceUid: original.studyInstanceUid,
        seriesInstanceUid: original.seriesInstanceUid,
        derivedStudy: false,
        patient: {
          name: original.patient.PatientName ?? '',
          id: original.patient.PatientID ?? '',
          sex: original.patient.PatientSex ?? '',
          age: original.patient.PatientAge ?? '',
        },
      };
      const modules = { patient: original.patient, study: original.study };
      return { ok: true, value: await render(key.sessionId, key.scanId, stored, image, modules) };
    },
  };

  /** The UIDs and patient attributes of the scan's stored (de-identified) file. */
  async function storedImageRefs(scanId: string): Promise<Result<ImageRefs, ExportError>> {
    const file = await deps.scanFiles.get(scanId);
    if (!file) {
      return fail(
        'unprocessable',
        `scan ${scanId} has no DICOM file: an SR must reference the image it describes`,
      );
    }
    const refs = readImageRefs(await deps.blobs.read(file.sha256));
    if (!refs.ok)
      return fail('unprocessable', `the stored image cannot be referenced: ${refs.error.message}`);
    return refs;
  }

  async function render(
    sessionId: string,
    scanId: string,
    stored: { record: string; sha256: string },
    image: ImageRefs,
    original?: OriginalModules,
  ): Promise<SrFile> {
    const record = parseConsensusRecord(stored.record);
    const moderator = await deps.users.byId(record.lockedBy);
    const input = {
      sessionId,
      scanId,
      version: record.version,
      sha256: stored.sha256,
      lockedAtMs: record.lockedAt,
      verifier: { id: record.lockedBy, name: moderator?.username ?? record.lockedBy },
      image,
      content: consensusContent(record),
      ...(original ? { original } : {}),
    };
    return {
      bytes: writeSr(input),
      sha256: stored.sha256,
      version: record.version,
      sopInstanceUid: srSopInstanceUid(input),
    };
  }
}

export type ExportService = ReturnType<typeof createExportService>;

function toManifest(sessionId: string, sessionName: string, scans: ManifestScan[]): ExportManifest {
  return { format: 'cxr-consensus-export/1', sessionId, sessionName, digest: manifestDigest(scans), scans };
}
