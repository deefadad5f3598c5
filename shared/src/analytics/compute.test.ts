import { describe, expect, it } from 'vitest';
import type { ConsensusRecord } from '../model/consensus-record.js';
import type { Finding } from '../model/schemas.js';
import type { ViewerState } from '../protocol/analytics.js';
import { computeAnalytics } from './compute.js';
import type { AnalyticsInput, ScanFacts } from './inputs.js';

const box = (x_min: number, y_min: number, x_max: number, y_max: number) => ({ x_min, y_min, x_max, y_max });
const finding = (id: string, label: Finding['labels'][number], b: Finding['box'], by = 'mod'): Finding => ({
  id,
  labels: [label],
  box: b,
  createdBy: by,
  updatedBy: by,
  updatedAt: 1,
});
const view = (preset: ViewerState['preset'], windowCenter = 1000, windowWidth = 2000): ViewerState => ({
  windowCenter,
  windowWidth,
  preset,
  zoom: 1,
  invert: false,
});

/**
 * Hand-computed blind session: readers r1, r2; s1 locked, s2 not. Reveal at 100 s wrote
 * fusion-1 (Nodule/Mass, accepted) and fusion-2 (Cardiomegaly, rejected); the moderator added
 * m-1 (Pleural effusion, undecided: kept) after the reveal; first lock at 160 s.
 */
function blindScenario(): AnalyticsInput {
  const record: ConsensusRecord = {
    sessionId: 'S',
    scanId: 's1',
    version: 1,
    image: { rows: 512, columns: 512 },
    lockedBy: 'mod',
    lockedAt: 170_000,
    findings: [
      finding('fusion-1', 'Nodule/Mass', box(100, 100, 200, 200)),
      finding('fusion-2', 'Cardiomegaly', box(300, 300, 400, 400)),
      finding('m-1', 'Pleural effusion', box(0, 400, 100, 500)),
    ],
    globals: [{ label: 'Pneumonia', proposedBy: 'system', updatedAt: 1 }],
    decisions: [
      {
        target: { kind: 'finding', id: 'fusion-1' },
        outcome: 'accepted',
        decidedBy: 'mod',
        decidedAt: 150_000,
      },
      {
        target: { kind: 'finding', id: 'fusion-2' },
        outcome: 'rejected',
        decidedBy: 'mod',
        decidedAt: 150_000,
      },
    ],
  };
  const s1: ScanFacts = {
    scanId: 's1',
    record,
    firstLockedAt: 160_000,
    reveal: { at: 100_000, proposalIds: ['fusion-1', 'fusion-2'] },
    blindReadings: [
      {
        readerId: 'r1',
        // a1: IoU 0.68 with fusion-1 (survives); a2: Cardiomegaly, rejected in the consensus.
        findings: [
          { id: 'a1', labels: ['Nodule/Mass'], box: box(110, 110, 210, 210) },
          { id: 'a2', labels: ['Cardiomegaly'], box: box(300, 300, 400, 400) },
        ],
        globals: ['Pneumonia'],
      },
      // b1: IoU 0.54 with the same fusion-1: survives too (each reader is matched alone).
      {
        readerId: 'r2',
        findings: [{ id: 'b1', labels: ['Nodule/Mass'], box: box(130, 100, 230, 200) }],
        globals: [],
      },
    ],
    currentFindings: [],
    votes: [
      {
        target: { kind: 'finding', id: 'fusion-1' },
        state: 'closed',
        outcome: 'accepted',
        overridden: false,
        choices: ['agree', 'agree'],
      },
      {
        target: { kind: 'finding', id: 'fusion-2' },
        state: 'closed',
        outcome: 'rejected',
        overridden: false,
        choices: ['disagree', 'agree'],
      },
      {
        target: { kind: 'finding', id: 'm-1' },
        state: 'void',
        outcome: null,
        overridden: false,
        choices: ['disagree'],
      },
      {
        target: { kind: 'global', label: 'Pneumonia' },
        state: 'closed',
        outcome: 'accepted',
        overridden: false,
        choices: ['agree', 'disagree'],
      },
    ],
  };
  const s2: ScanFacts = {
    scanId: 's2',
    record: null,
    firstLockedAt: null,
    reveal: { at: 100_000, proposalIds: [] },
    blindReadings: [],
    currentFindings: [],
    votes: [],
  };
  return {
    session: { id: 'S', name: 'Test set', mode: 'blind', stage: 'consensus', readerIds: ['r1', 'r2'] },
    usernames: { r1: 'alice', r2: 'bob' },
    scans: [s1, s2],
    captures: [
      {
        readerId: 'r1',
        scanId: 's1',
        activeMs: 40_000,
        firstOpenedAt: 20_000,
        tools: { wl: 5, draw: 2 },
        views: [
          { findingId: 'a1', action: 'created', at: 30_000, view: view('lung') },
          { findingId: 'a1', action: 'changed', at: 35_000, view: view('manual', 500, 1000) },
          { findingId: 'a2', action: 'created', at: 50_000, view: view('default') },
        ],
      },
      {
        readerId: 'r2',
        scanId: 's1',
        activeMs: 20_000,
        firstOpenedAt: 10_000,
        tools: { draw: 1 },
        views: [{ findingId: 'b1', action: 'created', at: 25_000, view: view('bone') }],
      },
      { readerId: 'r1', scanId: 's2', activeMs: 10_000, firstOpenedAt: 200_000, tools: {}, views: [] },
      { readerId: 'r2', scanId: 's2', activeMs: 30_000, firstOpenedAt: null, tools: {}, views: [] },
    ],
    scope: 'all',
    viewerId: 'mod',
    generatedAt: 1,
  };
}

describe('computeAnalytics (R-ANALYTICS-6..8)', () => {
  it('per scan: time blind, reveal to lock, votes, findings added and removed after the reveal', () => {
    const out = computeAnalytics(blindScenario());
    expect(out.scans[0]).toEqual({
      scanId: 's1',
      locked: true,
      blindMs: 90_000, // reveal 100 s - first open 10 s (r2)
      revealToLockMs: 60_000, // first lock 160 s - 100 s
      votes: 3, // the void vote does not count
      disputedVotes: 2, // a disagree on fusion-2 (rejected), a disagree on Pneumonia
      addedAfterReveal: 1, // m-1
      removedAfterReveal: 1, // fusion-2 rejected
      consensusFindings: 2,
      activeMs: 60_000,
    });
    // s2: r1 first opened it after the reveal: no blind time; not locked.
    expect(out.scans[1]).toMatchObject({
      blindMs: null,
      revealToLockMs: null,
      consensusFindings: null,
      activeMs: 40_000,
    });
    expect(out.session.revealedAt).toBe(100_000);
  });

  it('per reader: median and p90 reading time, time to first finding, survival, P/R/F1, global agreement', () => {
    const [r1, r2] = computeAnalytics(blindScenario()).readers;
    expect(r1).toEqual({
      readerId: 'r1',
      username: 'alice',
      scansRead: 2,
      activeMsTotal: 50_000,
      readingMsMedian: 25_000, // [10 s, 40 s]
      readingMsP90: 37_000, // 10 s + 0.9 x 30 s
      timeToFirstFindingMsMedian: 10_000, // a1 at 30 s - opened at 20 s
      findings: 2,
      survived: 1,
      survival: 0.5,
      precision: 0.5, // 1 of 2 boxes
      recall: 0.5, // 1 of 2 consensus findings (fusion-1, m-1)
      f1: 0.5,
      globalAgreement: 1, // Pneumonia, like the consensus: 6 of 6 labels agree
      tools: { wl: 5, draw: 2 },
    });
    expect(r2).toMatchObject({
      readingMsMedian: 25_000,
      readingMsP90: 29_000,
      timeToFirstFindingMsMedian: 15_000,
      survived: 1,
      precision: 1,
      recall: 0.5,
      f1: 0.6667,
      globalAgreement: 0.8333, // missed Pneumonia: 5 of 6
    });
  });

  it('rows are the full reader x scan grid; W/L points use the latest view; disputes per label', () => {
    const out = computeAnalytics(blindScenario());
    expect(out.rows.map((r) => `${r.scanId}/${r.readerId}`)).toEqual(['s1/r1', 's1/r2', 's2/r1', 's2/r2']);
    expect(out.rows[0]).toMatchObject({
      activeMs: 40_000,
      timeToFirstFindingMs: 10_000,
      toolUses: 7,
      tools: 'draw=2;wl=5',
    });
    expect(out.rows[2]).toMatchObject({ survived: null, precision: null, f1: null, findings: 0 });
    expect(out.wlBySurvival).toEqual([
      expect.objectContaining({
        readerId: 'r1',
        findingId: 'a1',
        survived: true,
        preset: 'manual',
        windowCenter: 500,
      }),
      expect.objectContaining({ readerId: 'r1', findingId: 'a2', survived: false, preset: 'default' }),
      expect.objectContaining({ readerId: 'r2', findingId: 'b1', survived: true, preset: 'bone' }),
    ]);
    expect(out.disputesByLabel).toEqual([
      { label: 'Cardiomegaly', votes: 1, disputes: 1 },
      { label: 'Pneumonia', votes: 1, disputes: 1 },
      { label: 'Nodule/Mass', votes: 1, disputes: 0 },
    ]);
  });

  it('R-ANALYTICS-5: a reader’s own scope holds only their rows, figures from their capture alone', () => {
    const out = computeAnalytics({ ...blindScenario(), scope: 'own', viewerId: 'r2' });
    expect(out.rows.map((r) => r.readerId)).toEqual(['r2', 'r2']);
    expect(out.readers.map((r) => r.readerId)).toEqual(['r2']);
    expect(out.wlBySurvival.map((p) => p.readerId)).toEqual(['r2']);
    expect(out.scans[0]).toMatchObject({ activeMs: 20_000, blindMs: 90_000 });
    expect(out.session.scope).toBe('own');
  });

  it('live sessions: a reader’s findings are the ones they drew; fused proposals are nobody’s', () => {
    const record: ConsensusRecord = {
      sessionId: 'L',
      scanId: 's1',
      version: 1,
      image: { rows: 512, columns: 512 },
      lockedBy: 'mod',
      lockedAt: 5,
      findings: [
        finding('f1', 'Nodule/Mass', box(0, 0, 50, 50), 'r1'),
        finding('f2', 'Cardiomegaly', box(100, 100, 300, 300), 'r2'),
      ],
      globals: [{ label: 'No finding', proposedBy: 'r2', updatedAt: 1 }],
      decisions: [
        { target: { kind: 'finding', id: 'f1' }, outcome: 'accepted', decidedBy: 'mod', decidedAt: 2 },
        { target: { kind: 'finding', id: 'f2' }, outcome: 'rejected', decidedBy: 'mod', decidedAt: 2 },
        {
          target: { kind: 'global', label: 'No finding' },
          outcome: 'rejected',
          decidedBy: 'mod',
          decidedAt: 2,
        },
      ],
    };
    const out = computeAnalytics({
      session: { id: 'L', name: 'live', mode: 'live', stage: 'consensus', readerIds: ['r1', 'r2'] },
      usernames: {},
      scans: [
        {
          scanId: 's1',
          record,
          firstLockedAt: 5,
          reveal: null,
          blindReadings: null,
          currentFindings: [],
          votes: [],
        },
      ],
      captures: [],
      scope: 'all',
      viewerId: 'admin',
      generatedAt: 1,
    });
    expect(out.readers.map((r) => [r.survived, r.precision, r.recall, r.globalAgreement])).toEqual([
      [1, 1, 1, 1],
      [0, 0, 0, 0.8333], // proposed No finding, which the consensus rejected
    ]);
    expect(out.scans[0]).toMatchObject({ blindMs: null, addedAfterReveal: null, removedAfterReveal: null });
    expect(out.readers[0]?.readingMsMedian).toBeNull();
  });
});
