import type { ConsensusRecord } from '../model/consensus-record.js';
import type {
  AnalyticsResponse,
  AnalyticsRow,
  LabelDisputes,
  ReaderFigures,
  ScanFigures,
  WlPoint,
} from '../protocol/analytics.js';
import { globalAgreement, keptByRecord } from './consensus-kept.js';
import type { AnalyticsInput, FindingViewFact, ReaderScanCapture, ScanFacts } from './inputs.js';
import { f1Of, median, quantile, ratio, round4 } from './stats.js';
import { type MatchableFinding, matchSurvival } from './survival.js';
import { countedVotes, isDisputed } from './vote-disputes.js';

/** What one reader did on one locked scan, against its consensus. */
interface Scored {
  readonly findings: readonly MatchableFinding[];
  readonly survived: ReadonlySet<string>;
  readonly matches: number;
  readonly readerItems: number;
  readonly consensusItems: number;
  readonly consensusFindings: number;
  readonly globalAgreement: number;
}

/** A reader's findings on a scan: their blind reading if there was one, else what they drew. */
function readerFindings(scan: ScanFacts, readerId: string): MatchableFinding[] {
  const blind = scan.blindReadings?.find((r) => r.readerId === readerId);
  if (blind) return [...blind.findings];
  const source = scan.record?.findings ?? scan.currentFindings;
  return source.filter((f) => f.createdBy === readerId && !f.fusion);
}

function readerGlobals(scan: ScanFacts, record: ConsensusRecord, readerId: string): Set<string> {
  const blind = scan.blindReadings?.find((r) => r.readerId === readerId);
  if (blind) return new Set(blind.globals);
  return new Set(record.globals.filter((g) => g.proposedBy === readerId).map((g) => g.label));
}

function score(scan: ScanFacts, readerId: string): Scored | null {
  if (!scan.record) return null;
  const kept = keptByRecord(scan.record);
  const findings = readerFindings(scan, readerId);
  const result = matchSurvival(findings, kept.findings);
  return {
    findings,
    ...result,
    consensusFindings: kept.findings.length,
    globalAgreement: globalAgreement(readerGlobals(scan, scan.record, readerId), kept.globals),
  };
}

function latestViews(views: readonly FindingViewFact[]): Map<string, FindingViewFact> {
  const out = new Map<string, FindingViewFact>();
  for (const v of views) {
    const seen = out.get(v.findingId);
    if (!seen || seen.at <= v.at) out.set(v.findingId, v);
  }
  return out;
}

function firstFindingMs(capture: ReaderScanCapture | undefined): number | null {
  if (!capture || capture.firstOpenedAt === null) return null;
  const created = capture.views.filter((v) => v.action === 'created').map((v) => v.at);
  if (created.length === 0) return null;
  const ms = Math.min(...created) - capture.firstOpenedAt;
  // A finding "created" before the scan was opened is a clock or ordering fault: say unknown.
  return ms >= 0 ? ms : null;
}

const toolText = (tools: Readonly<Record<string, number>>) =>
  Object.keys(tools)
    .sort()
    .map((t) => `${t}=${tools[t]}`)
    .join(';');

function addTools(into: Record<string, number>, tools: Readonly<Record<string, number>>): void {
  for (const [tool, n] of Object.entries(tools)) into[tool] = (into[tool] ?? 0) + n;
}

/**
 * Every figure of R-ANALYTICS-6..8 from the gathered facts. Rows are one per reader x scan (in
 * the session's scan order, readers in panel order); a reader who never opened a scan still
 * gets a row with zero time, so the CSV is a full grid.
 */
export function computeAnalytics(input: AnalyticsInput): AnalyticsResponse {
  const own = input.scope === 'own';
  const readerIds = own
    ? input.session.readerIds.filter((id) => id === input.viewerId)
    : [...input.session.readerIds];
  // A reader's view is computed from their own capture only (R-ANALYTICS-5).
  const captures = own ? input.captures.filter((c) => c.readerId === input.viewerId) : input.captures;
  const captureOf = new Map(captures.map((c) => [`${c.readerId}\u0000${c.scanId}`, c]));
  const username = (id: string) => input.usernames[id] ?? id;
  const firstReveal = input.scans.find((s) => s.reveal)?.reveal?.at ?? null;

  const scans: ScanFigures[] = [];
  const rows: AnalyticsRow[] = [];
  const wlBySurvival: WlPoint[] = [];
  const disputes = new Map<string, { votes: number; disputes: number }>();

  for (const scan of input.scans) {
    const scanCaptures = captures.filter((c) => c.scanId === scan.scanId);
    const opened = scanCaptures.map((c) => c.firstOpenedAt).filter((t): t is number => t !== null);
    const firstOpen = opened.length > 0 ? Math.min(...opened) : null;
    const reveal = scan.reveal;
    const kept = scan.record ? keptByRecord(scan.record) : null;
    const proposals = new Set(reveal?.proposalIds ?? []);
    const keptIds = new Set(kept?.findings.map((f) => f.id) ?? []);
    const votes = countedVotes(scan.votes);
    scans.push({
      scanId: scan.scanId,
      locked: scan.record !== null,
      blindMs: reveal && firstOpen !== null && firstOpen <= reveal.at ? reveal.at - firstOpen : null,
      revealToLockMs:
        reveal && scan.firstLockedAt !== null && scan.firstLockedAt >= reveal.at
          ? scan.firstLockedAt - reveal.at
          : null,
      votes: votes.length,
      disputedVotes: votes.filter(isDisputed).length,
      addedAfterReveal: reveal && kept ? kept.findings.filter((f) => !proposals.has(f.id)).length : null,
      removedAfterReveal: reveal && kept ? [...proposals].filter((id) => !keptIds.has(id)).length : null,
      consensusFindings: kept ? kept.findings.length : null,
      activeMs: scanCaptures.reduce((n, c) => n + c.activeMs, 0),
    });

    // Votes per label: a finding's vote counts for each of its labels.
    const labelsOf = new Map<string, readonly string[]>();
    for (const f of [...scan.currentFindings, ...(scan.record?.findings ?? [])]) labelsOf.set(f.id, f.labels);
    for (const vote of votes) {
      const labels =
        vote.target.kind === 'global'
          ? [vote.target.label]
          : (vote.labels ?? labelsOf.get(vote.target.id) ?? ['(removed)']);
      for (const label of labels) {
        const entry = disputes.get(label) ?? { votes: 0, disputes: 0 };
        entry.votes++;
        if (isDisputed(vote)) entry.disputes++;
        disputes.set(label, entry);
      }
    }

    for (const readerId of readerIds) {
      const capture = captureOf.get(`${readerId}\u0000${scan.scanId}`);
      const scored = score(scan, readerId);
      const findings = scored?.findings ?? readerFindings(scan, readerId);
      const precision = scored ? ratio(scored.matches, scored.readerItems) : null;
      const recall = scored ? ratio(scored.matches, scored.consensusItems) : null;
      rows.push({
        sessionId: input.session.id,
        scanId: scan.scanId,
        readerId,
        username: username(readerId),
        activeMs: capture?.activeMs ?? 0,
        timeToFirstFindingMs: firstFindingMs(capture),
        findings: findings.length,
        survived: scored ? scored.survived.size : null,
        consensusFindings: scored ? scored.consensusFindings : null,
        precision: round4(precision),
        recall: round4(recall),
        f1: round4(f1Of(precision, recall)),
        globalAgreement: round4(scored ? scored.globalAgreement : null),
        toolUses: Object.values(capture?.tools ?? {}).reduce((n, t) => n + t, 0),
        tools: toolText(capture?.tools ?? {}),
      });
      if (scored && capture) {
        const views = latestViews(capture.views);
        for (const f of findings) {
          const v = views.get(f.id);
          if (!v) continue;
          wlBySurvival.push({
            readerId,
            scanId: scan.scanId,
            findingId: f.id,
            label: f.labels[0] ?? '',
            survived: scored.survived.has(f.id),
            windowCenter: v.view.windowCenter,
            windowWidth: v.view.windowWidth,
            preset: v.view.preset,
            zoom: v.view.zoom,
            invert: v.view.invert,
          });
        }
      }
    }
  }

  const readers: ReaderFigures[] = readerIds.map((readerId) => {
    const mine = rows.filter((r) => r.readerId === readerId);
    const scored = input.scans.map((s) => score(s, readerId)).filter((s): s is Scored => s !== null);
    const matches = scored.reduce((n, s) => n + s.matches, 0);
    const readerItems = scored.reduce((n, s) => n + s.readerItems, 0);
    const consensusItems = scored.reduce((n, s) => n + s.consensusItems, 0);
    const lockedFindings = scored.reduce((n, s) => n + s.findings.length, 0);
    const survived = scored.reduce((n, s) => n + s.survived.size, 0);
    // Micro-averaged over the locked scans: every box weighs the same, whatever its scan.
    const precision = ratio(matches, readerItems);
    const recall = ratio(matches, consensusItems);
    const reading = mine.filter((r) => r.activeMs > 0).map((r) => r.activeMs);
    const firsts = mine.map((r) => r.timeToFirstFindingMs).filter((t): t is number => t !== null);
    const tools: Record<string, number> = {};
    for (const c of captures) if (c.readerId === readerId) addTools(tools, c.tools);
    const agreement = scored.map((s) => s.globalAgreement);
    return {
      readerId,
      username: username(readerId),
      scansRead: reading.length,
      activeMsTotal: reading.reduce((n, t) => n + t, 0),
      readingMsMedian: median(reading),
      readingMsP90: quantile(reading, 0.9),
      timeToFirstFindingMsMedian: median(firsts),
      findings: mine.reduce((n, r) => n + r.findings, 0),
      survived,
      survival: round4(ratio(survived, lockedFindings)),
      precision: round4(precision),
      recall: round4(recall),
      f1: round4(f1Of(precision, recall)),
      globalAgreement: round4(
        ratio(
          agreement.reduce((n, a) => n + a, 0),
          agreement.length,
        ),
      ),
      tools,
    };
  });

  const disputesByLabel: LabelDisputes[] = [...disputes.entries()]
    .map(([label, d]) => ({ label, ...d }))
    .sort((a, b) => b.disputes - a.disputes || b.votes - a.votes || a.label.localeCompare(b.label));

  return {
    session: {
      id: input.session.id,
      name: input.session.name,
      mode: input.session.mode,
      stage: input.session.stage,
      revealedAt: firstReveal,
      readerIds,
      scope: input.scope,
      generatedAt: input.generatedAt,
    },
    scans,
    readers,
    rows,
    disputesByLabel,
    wlBySurvival,
  };
}
