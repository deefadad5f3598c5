import { z } from 'zod';
import type { ConsensusRecord } from '../model/consensus-record.js';
import { DecisionSchema, FindingSchema, GlobalProposalSchema, IdSchema } from '../model/schemas.js';

/** A stored consensus record read back: parsed, never cast (STYLE 4). */
export const ConsensusRecordSchema = z.object({
  sessionId: IdSchema,
  scanId: IdSchema,
  version: z.number().int().positive(),
  image: z.object({ rows: z.number().int().positive(), columns: z.number().int().positive() }),
  lockedBy: IdSchema,
  lockedAt: z.number().finite(),
  findings: z.array(FindingSchema),
  globals: z.array(GlobalProposalSchema),
  decisions: z.array(DecisionSchema),
});

/** Parses a record's stored JSON text; throws (a bug or a corrupt row) when it does not fit. */
export function parseConsensusRecord(json: string): ConsensusRecord {
  return ConsensusRecordSchema.parse(JSON.parse(json));
}
