import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Tables of the live panel (migration `0003_live_panel`). Kept beside the stores that use them
 * rather than in schema.ts so the live panel adds tables without editing shared files.
 */
export interface AuditEntriesTable {
  session_id: string;
  scan_id: string;
  seq: number;
  kind: string;
  actor: string;
  at: string;
  /** Canonical JSON (RFC 8785) of the payload. */
  payload: string;
  ref: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  session_id: string;
  scan_id: string;
  seq: number;
  hash: string;
}

export interface VotesTable {
  id: string;
  session_id: string;
  scan_id: string;
  target_key: string;
  /** JSON of the target. */
  target: string;
  target_version: string;
  quorum: number;
  opened_by: string;
  opened_at: number;
  state: string;
  outcome: string | null;
  overridden: number;
  reason: string | null;
  closed_at: number | null;
}

export interface SessionQuorumsTable {
  session_id: string;
  quorum: number;
}

export type LiveTables = {
  audit_entries: AuditEntriesTable;
  audit_heads: AuditHeadsTable;
  votes: VotesTable;
  session_quorums: SessionQuorumsTable;
};

export type LiveDatabase = Database & LiveTables;

export function liveDb(db: Kysely<Database>): Kysely<LiveDatabase> {
  return db.withTables<LiveTables>();
}
