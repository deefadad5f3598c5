import { VoteChoiceSchema } from '@cxr/shared';
import { z } from 'zod';
import type { AuditEntry } from '../db/audit-store.js';
import type { VoteRecord } from '../db/votes-store.js';
import type { LiveVote } from './live-store.js';

/** Payload of a `vote-cast` audit entry: enough to replay the ballot. */
export const CastPayloadSchema = z.object({
  voteId: z.string(),
  seq: z.number().int(),
  reader: z.string(),
  choice: VoteChoiceSchema,
});

/** Payload of `vote-close` / `vote-void`: the ballots as they were frozen. */
export const FinishPayloadSchema = z.object({
  voteId: z.string(),
  seq: z.number().int(),
  ballots: z.record(z.string(), VoteChoiceSchema),
});

/**
 * A vote's live state rebuilt from the database: its row (state, outcome) and its audit entries
 * (ballots). Casts replay in `seq` order, the order the live store accepted them, not the order
 * their log entries happened to commit; a finished vote takes the ballots frozen at its end.
 */
export function replayVote(record: VoteRecord, entries: readonly AuditEntry[]): LiveVote {
  const casts: Array<z.infer<typeof CastPayloadSchema>> = [];
  let frozen: z.infer<typeof FinishPayloadSchema> | undefined;
  let seq = 0;
  for (const entry of entries) {
    if (entry.kind === 'vote-cast') {
      const cast = CastPayloadSchema.safeParse(entry.payload);
      if (cast.success) casts.push(cast.data);
    } else if (entry.kind === 'vote-close' || entry.kind === 'vote-void') {
      const finish = FinishPayloadSchema.safeParse(entry.payload);
      if (finish.success) frozen = finish.data;
    }
  }
  casts.sort((a, b) => a.seq - b.seq);
  const ballots: Record<string, z.infer<typeof VoteChoiceSchema>> = {};
  for (const cast of casts) {
    ballots[cast.reader] = cast.choice;
    seq = Math.max(seq, cast.seq);
  }
  if (frozen && record.state !== 'open') {
    seq = Math.max(seq, frozen.seq);
    return { ...base(record), seq, ballots: frozen.ballots };
  }
  return { ...base(record), seq, ballots };
}

function base(record: VoteRecord): Omit<LiveVote, 'seq' | 'ballots'> {
  return {
    id: record.id,
    sessionId: record.sessionId,
    scanId: record.scanId,
    target: record.target,
    targetVersion: record.targetVersion,
    quorum: record.quorum,
    openedAt: record.openedAt,
    state: record.state,
    outcome: record.outcome,
    overridden: record.overridden,
    reason: record.reason,
    closedAt: record.closedAt,
  };
}
