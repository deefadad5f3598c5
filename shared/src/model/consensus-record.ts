import type * as Y from 'yjs';
import type { Decision, DocMeta, Finding, GlobalProposal, ImageSize } from './schemas.js';
import { readDecisions, readFindings, readGlobals } from './scan-doc.js';

/**
 * What a lock freezes: the scan document's findings, global proposals and decisions, with who
 * locked it and when. Its SHA-256 is taken over the canonical JSON (RFC 8785) of this object.
 */
export interface ConsensusRecord {
  readonly sessionId: string;
  readonly scanId: string;
  readonly version: number;
  readonly image: ImageSize;
  readonly lockedBy: string;
  readonly lockedAt: number;
  readonly findings: readonly Finding[];
  readonly globals: readonly GlobalProposal[];
  readonly decisions: readonly Decision[];
}

export function buildConsensusRecord(
  doc: Y.Doc,
  head: Pick<ConsensusRecord, 'sessionId' | 'scanId' | 'version' | 'image' | 'lockedBy' | 'lockedAt'>,
): ConsensusRecord {
  return { ...head, findings: readFindings(doc), globals: readGlobals(doc), decisions: readDecisions(doc) };
}

export type { DocMeta };
