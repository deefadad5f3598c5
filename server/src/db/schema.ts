import type { Generated } from 'kysely';

/** Table shapes shared by the SQLite and PostgreSQL back ends (booleans as 0/1, times as ISO text). */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  disabled: number;
  created_at: string;
}

export interface ScansTable {
  id: string;
  rows: number;
  columns: number;
  created_by: string | null;
  created_at: string;
}

export interface SessionsTable {
  id: string;
  name: string;
  /** `live` or `blind` (then consensus). */
  mode: Generated<string>;
  /** `blind` until the moderator reveals, then `consensus`. */
  stage: Generated<string>;
  fusion_iou: Generated<number>;
  moderator_id: string;
  created_by: string;
  created_at: string;
}

export interface SessionReadersTable {
  session_id: string;
  user_id: string;
  position: number;
}

export interface SessionScansTable {
  session_id: string;
  scan_id: string;
  position: number;
  locked: number;
  lock_version: number;
}

/** Append-only log of accepted Yjs updates per scan document, until compacted. */
export interface DocUpdatesTable {
  seq: Generated<number>;
  /** SQLite only: roomKey() of the two ids, what the per-room index holds (R-STORE-8). */
  room_key?: number;
  session_id: string;
  scan_id: string;
  data: Uint8Array;
  user_id: string | null;
  created_at: string;
}

/** Compacted state: the merge of every update up to and including `upto_seq`. */
export interface DocSnapshotsTable {
  session_id: string;
  scan_id: string;
  data: Uint8Array;
  upto_seq: number;
  updated_at: string;
}

/** Immutable consensus records; a new lock after an unlock adds a new version. */
export interface ConsensusRecordsTable {
  session_id: string;
  scan_id: string;
  version: number;
  record: string;
  sha256: string;
  locked_by: string;
  locked_at: string;
}

/**
 * The de-identified DICOM file behind a scan (one per scan). `sha256` names the stored bytes
 * (content-addressed under `<dataDir>/dicom`); `content_sha256` is unique and holds the same
 * hash for files imported since de-identification became the idempotency key (earlier rows
 * hold the upload's hash), so two racing imports of one file cannot both insert. The original
 * UIDs are never stored.
 */
export interface ScanFilesTable {
  scan_id: string;
  sha256: string;
  content_sha256: string;
  bytes: number;
  transfer_syntax_uid: string;
  bits_allocated: number;
  bits_stored: number;
  high_bit: number;
  pixel_representation: number;
  photometric: string;
  /** JSON `[rowMm, columnMm]` or null. */
  pixel_spacing: string | null;
  /** JSON array of `{center, width, explanation?}`. */
  windows: string;
  lossy: number;
  deid_profile: string;
  imported_by: string | null;
  imported_at: string;
}

/**
 * The SR push outbox (R-PUSH-*): one row per (session, scan, lock version) whose DICOM SR goes
 * to the PACS. `state` is `pending`, `sent` or `failed`; a node sending a row holds its lease
 * (`lease_owner` until `lease_until`, epoch ms) so no two nodes send it at once.
 */
export interface PacsOutboxTable {
  session_id: string;
  scan_id: string;
  version: number;
  state: string;
  attempts: number;
  last_error: string | null;
  /** Epoch ms: a pending row is sent once this has passed. */
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  /** The SR instance the PACS acknowledged. */
  sop_instance_uid: string | null;
  created_at: string;
  sent_at: string | null;
}

/** Outbox settings kept in the database (`push-since`: when pushing to a PACS began). */
export interface PacsOutboxMetaTable {
  key: string;
  value: string;
}

/** Where the DICOMweb archive filed each stored image (IMAGE_STORE=dicomweb). */
export interface ArchivedImagesTable {
  sha256: string;
  study_uid: string;
  series_uid: string;
  sop_uid: string;
}

/** A PACS import job (R-PACS-*). `study_uids` is a JSON array; times in ms are bigint. */
export interface PacsImportsTable {
  id: string;
  created_by: string | null;
  session_id: string | null;
  study_uids: string;
  /** queued | running | done | failed */
  state: string;
  /** 1 once every study's instances are listed in pacs_import_items. */
  listed: number;
  /** Passes that stopped because the PACS or the image store was away. */
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: string;
  finished_at: string | null;
}

/**
 * One instance of a job (or, with `sop_uid` null, a study that could not be listed). `state`:
 * pending | done | failed.
 */
export interface PacsImportItemsTable {
  job_id: string;
  position: number;
  study_uid: string;
  series_uid: string | null;
  sop_uid: string | null;
  state: string;
  scan_id: string | null;
  error_code: string | null;
  error_message: string | null;
}

/**
 * The original identity of a scan imported from the PACS: UIDs and the patient and study
 * modules (JSON by keyword). Only the SR push reads it (R-PUSH-4); no API answers it.
 */
export interface PacsOriginsTable {
  scan_id: string;
  study_uid: string;
  series_uid: string;
  sop_uid: string;
  sop_class_uid: string;
  patient: string;
  study: string;
}

/** Capture batches already stored, so a retried batch adds nothing (R-ANALYTICS-3). */
export interface AnalyticsBatchesTable {
  session_id: string;
  user_id: string;
  batch_id: string;
  received_at: number;
}

/** A reader's active time on a scan, summed over batches; times epoch ms (server clock). */
export interface AnalyticsReadingTable {
  session_id: string;
  scan_id: string;
  user_id: string;
  active_ms: number;
  first_opened_at: number | null;
  batches: number;
  updated_at: number;
}

export interface AnalyticsToolsTable {
  session_id: string;
  scan_id: string;
  user_id: string;
  tool: string;
  uses: number;
}

/** The display state at a finding's creation and at its latest change (`action`). */
export interface AnalyticsFindingViewsTable {
  session_id: string;
  scan_id: string;
  user_id: string;
  finding_id: string;
  action: string;
  at: number;
  window_center: number;
  window_width: number;
  preset: string;
  zoom: number;
  invert: number;
}

/** When the reveal happened and the proposals it wrote (JSON array of finding ids). */
export interface AnalyticsRevealsTable {
  session_id: string;
  scan_id: string;
  revealed_at: number;
  proposal_ids: string;
}

export interface Database {
  users: UsersTable;
  scans: ScansTable;
  sessions: SessionsTable;
  session_readers: SessionReadersTable;
  session_scans: SessionScansTable;
  doc_updates: DocUpdatesTable;
  doc_snapshots: DocSnapshotsTable;
  consensus_records: ConsensusRecordsTable;
  scan_files: ScanFilesTable;
  archived_images: ArchivedImagesTable;
  pacs_outbox: PacsOutboxTable;
  pacs_imports: PacsImportsTable;
  pacs_import_items: PacsImportItemsTable;
  pacs_origins: PacsOriginsTable;
  pacs_outbox_meta: PacsOutboxMetaTable;
  analytics_batches: AnalyticsBatchesTable;
  analytics_reading: AnalyticsReadingTable;
  analytics_tools: AnalyticsToolsTable;
  analytics_finding_views: AnalyticsFindingViewsTable;
  analytics_reveals: AnalyticsRevealsTable;
}
