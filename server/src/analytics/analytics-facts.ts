import {
  type AnalyticsInput,
  type ConsensusRecord,
  type ScanFacts,
  type Session,
  type VoteFact,
  parseConsensusRecord,
} from '@cxr/shared';
import type { Kysely } from 'kysely';
import type { AnalyticsStore } from '../db/analytics-store.js';
import type { DocStore } from '../db/doc-store.js';
import { liveDb } from '../db/live-tables.js';
import type { Database } from '../db/schema.js';
import type { UsersStore } from '../db/users-store.js';
import { VotesStore } from '../db/votes-store.js';
import { replayVote } from '../realtime/vote-log.js';
import { loadBlindReading } from './blind-readings.js';

export interface FactsDeps {
  readonly db: Kysely<Database>;
  readonly analytics: AnalyticsStore;
  readonly docs: DocStore;
  readonly users: UsersStore;
}

export interface Viewer {
  readonly userId: string;
  /** `all`: the session's moderator or an admin; `own`: a reader (R-ANALYTICS-5). */
  readonly scope: 'all' | 'own';
}

/** The labels a finding vote was opened on, from its target version (`{labels, box}` JSON). */
function labelsOfVersion(version: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(version);
    const labels = (parsed as { labels?: unknown }).labels;
    return Array.isArray(labels) && labels.every((l) => typeof l === 'string') ? labels : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Everything `computeAnalytics` needs, read session-wide: a handful of queries whatever the
 * number of scans (records, votes, vote log entries, capture, reveals), plus one document read
 * per reader and scan for blind readings after the reveal.
 */
export async function gatherFacts(
  deps: FactsDeps,
  session: Session,
  viewer: Viewer,
): Promise<AnalyticsInput> {
  const db = liveDb(deps.db);
  const own = viewer.scope === 'own';
  const [recordRows, votes, voteEntries, captures, reveals, users] = await Promise.all([
    db
      .selectFrom('consensus_records')
      .select(['scan_id', 'version', 'record'])
      .where('session_id', '=', session.id)
      .orderBy('scan_id')
      .orderBy('version')
      .execute(),
    new VotesStore(deps.db).forSession(session.id),
    db
      .selectFrom('audit_entries')
      .select(['seq', 'kind', 'actor', 'at', 'payload', 'ref', 'prev_hash', 'hash'])
      .where('session_id', '=', session.id)
      .where('kind', 'in', ['vote-cast', 'vote-close', 'vote-void'])
      .orderBy('scan_id')
      .orderBy('seq')
      .execute(),
    deps.analytics.captures(session.id, own ? viewer.userId : undefined),
    deps.analytics.reveals(session.id),
    deps.users.byIds([session.moderatorId, ...session.readerIds]),
  ]);

  // Latest record and first lock per scan (versions ascending: the last row wins the record).
  const records = new Map<string, { record: ConsensusRecord; firstLockedAt: number }>();
  for (const row of recordRows) {
    const record = parseConsensusRecord(row.record);
    const seen = records.get(row.scan_id);
    records.set(row.scan_id, { record, firstLockedAt: seen?.firstLockedAt ?? record.lockedAt });
  }
  const entriesByVote = new Map<string, Parameters<typeof replayVote>[1][number][]>();
  for (const row of voteEntries) {
    if (!row.ref) continue;
    const list = entriesByVote.get(row.ref) ?? [];
    list.push({
      seq: Number(row.seq),
      kind: row.kind,
      actor: row.actor,
      at: row.at,
      payload: JSON.parse(row.payload) as unknown,
      ref: row.ref,
      prevHash: row.prev_hash,
      hash: row.hash,
    });
    entriesByVote.set(row.ref, list);
  }
  const votesByScan = new Map<string, VoteFact[]>();
  for (const vote of votes) {
    const replayed = replayVote(vote, entriesByVote.get(vote.id) ?? []);
    const list = votesByScan.get(vote.scanId) ?? [];
    list.push({
      target: vote.target,
      labels: vote.target.kind === 'finding' ? labelsOfVersion(vote.targetVersion) : undefined,
      state: vote.state,
      outcome: vote.outcome,
      overridden: vote.overridden,
      choices: Object.values(replayed.ballots),
    });
    votesByScan.set(vote.scanId, list);
  }

  // Blind readings are private until the reveal; afterwards a reader's own scope needs only theirs.
  const revealed = session.mode === 'blind' && session.stage === 'consensus';
  const blindReaders = own ? session.readerIds.filter((id) => id === viewer.userId) : session.readerIds;
  const scans: ScanFacts[] = [];
  for (const { scanId } of session.scans) {
    const locked = records.get(scanId);
    scans.push({
      scanId,
      record: locked?.record ?? null,
      firstLockedAt: locked?.firstLockedAt ?? null,
      reveal: reveals.get(scanId) ?? null,
      blindReadings:
        revealed && locked
          ? await Promise.all(blindReaders.map((r) => loadBlindReading(deps.docs, session.id, scanId, r)))
          : null,
      currentFindings: [],
      votes: votesByScan.get(scanId) ?? [],
    });
  }
  return {
    session: {
      id: session.id,
      name: session.name,
      mode: session.mode,
      stage: session.stage,
      readerIds: session.readerIds,
    },
    usernames: Object.fromEntries(users.map((u) => [u.id, u.username])),
    scans,
    captures,
    scope: viewer.scope,
    viewerId: viewer.userId,
    generatedAt: Date.now(),
  };
}
