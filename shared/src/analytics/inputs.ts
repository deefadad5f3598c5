import type { ConsensusRecord } from '../model/consensus-record.js';
import type { GlobalLabel } from '../model/labels.js';
import type { Box, Finding } from '../model/schemas.js';
import type { ViewerState } from '../protocol/analytics.js';
import type { Target, VoteChoice } from '../protocol/socket-events.js';

/**
 * The facts the analytics are derived from, gathered by the server from the capture tables,
 * the audit log, the blind readings and the locked records. Plain data: no I/O happens here.
 * Times are epoch milliseconds on the server's clock.
 */

/** What a reader's client reported about one scan, summed over every batch. */
export interface ReaderScanCapture {
  readonly readerId: string;
  readonly scanId: string;
  readonly activeMs: number;
  /** Earliest time the reader opened the scan, or null if never reported. */
  readonly firstOpenedAt: number | null;
  readonly tools: Readonly<Record<string, number>>;
  /** The display state at each finding's creation and latest change. */
  readonly views: readonly FindingViewFact[];
}

export interface FindingViewFact {
  readonly findingId: string;
  readonly action: 'created' | 'changed';
  readonly at: number;
  readonly view: ViewerState;
}

/** A reader's private stage-1 reading of a scan (blind sessions, after the reveal). */
export interface BlindReadingFact {
  readonly readerId: string;
  readonly findings: readonly {
    readonly id: string;
    readonly labels: readonly string[];
    readonly box: Box;
  }[];
  readonly globals: readonly GlobalLabel[];
}

/** A vote with the final choice of each reader who cast one. */
export interface VoteFact {
  readonly target: Target;
  /** The finding's labels when the vote opened (a finding vote); else looked up by id. */
  readonly labels?: readonly string[] | undefined;
  readonly state: 'open' | 'closed' | 'void';
  readonly outcome: 'accepted' | 'rejected' | null;
  readonly overridden: boolean;
  readonly choices: readonly VoteChoice[];
}

export interface ScanFacts {
  readonly scanId: string;
  /** The latest locked record, or null while the scan is unlocked. */
  readonly record: ConsensusRecord | null;
  /** The first lock of the scan (an unlock and relock keeps the first). */
  readonly firstLockedAt: number | null;
  /** Blind sessions: when the reveal happened and the ids of the proposals it wrote. */
  readonly reveal: { readonly at: number; readonly proposalIds: readonly string[] } | null;
  /** Blind sessions after the reveal: each reader's stage-1 reading; null otherwise. */
  readonly blindReadings: readonly BlindReadingFact[] | null;
  /** Findings of the shared document now (labels for votes on findings the record lacks). */
  readonly currentFindings: readonly Finding[];
  readonly votes: readonly VoteFact[];
}

export interface AnalyticsInput {
  readonly session: {
    readonly id: string;
    readonly name: string;
    readonly mode: 'live' | 'blind';
    readonly stage: 'blind' | 'consensus';
    readonly readerIds: readonly string[];
  };
  readonly usernames: Readonly<Record<string, string>>;
  readonly scans: readonly ScanFacts[];
  readonly captures: readonly ReaderScanCapture[];
  /** `own`: only `viewerId`'s rows, figures computed from their capture alone. */
  readonly scope: 'all' | 'own';
  readonly viewerId: string;
  readonly generatedAt: number;
}
