import type { FastifyInstance } from 'fastify';
import type { ConsensusStore } from '../db/consensus-store.js';
import type { ScanFilesStore } from '../db/scan-files-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { BlobStore } from '../dicom/blob-store.js';
import type { RequireUser } from '../http/auth-guard.js';

export interface ExportRouteDeps {
  readonly sessions: SessionsStore;
  readonly consensus: ConsensusStore;
  readonly scanFiles: ScanFilesStore;
  readonly blobs: BlobStore;
  readonly users: UsersStore;
  readonly requireUser: RequireUser;
}

/** Export routes (VinDr CSV, COCO, manifest, DICOM SR); see docs/API.md "Exports". */
export function exportRoutes(_app: FastifyInstance, _deps: ExportRouteDeps): void {}
