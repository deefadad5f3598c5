import { type AnalyticsResponse, AnalyticsResponseSchema } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import {
  disputeData,
  formatDuration,
  formatRatio,
  presetCounts,
  readersByTime,
  readingTimeData,
  scoreData,
  wlData,
} from './figures.js';

const reader = (
  readerId: string,
  username: string,
  activeMsTotal: number,
  survival: number | null,
  f1: number | null,
) => ({
  readerId,
  username,
  scansRead: 1,
  activeMsTotal,
  readingMsMedian: activeMsTotal,
  readingMsP90: activeMsTotal,
  timeToFirstFindingMsMedian: null,
  findings: 1,
  survived: survival === 1 ? 1 : 0,
  survival,
  precision: f1,
  recall: f1,
  f1,
  globalAgreement: null,
  tools: {},
});

const row = (readerId: string, username: string, scanId: string, activeMs: number) => ({
  sessionId: 'sess',
  scanId,
  readerId,
  username,
  activeMs,
  timeToFirstFindingMs: null,
  findings: 1,
  survived: null,
  consensusFindings: null,
  precision: null,
  recall: null,
  f1: null,
  globalAgreement: null,
  toolUses: 0,
  tools: '',
});

const point = (
  readerId: string,
  findingId: string,
  survived: boolean,
  preset: 'lung' | 'default' | 'manual',
) => ({
  readerId,
  scanId: 's1',
  findingId,
  label: 'Nodule/Mass',
  survived,
  windowCenter: 500,
  windowWidth: 1500,
  preset,
  zoom: 0.3,
  invert: false,
});

const response: AnalyticsResponse = AnalyticsResponseSchema.parse({
  session: {
    id: 'sess',
    name: 'Test',
    mode: 'live',
    stage: 'consensus',
    revealedAt: null,
    readerIds: ['a', 'b', 'c'],
    scope: 'all',
    generatedAt: 1,
  },
  scans: [],
  readers: [
    reader('b', 'bob', 4000, 0, 0),
    reader('a', 'alice', 12_000, 1, 1),
    reader('c', 'carl', 4000, null, null),
  ],
  rows: [
    row('a', 'alice', 's1', 9000),
    row('a', 'alice', 's2', 3000),
    row('b', 'bob', 's1', 4000),
    row('c', 'carl', 's2', 0),
  ],
  disputesByLabel: [
    { label: 'COPD', votes: 2, disputes: 0 },
    { label: 'Nodule/Mass', votes: 3, disputes: 2 },
    { label: 'Pneumonia', votes: 0, disputes: 0 },
  ],
  wlBySurvival: [
    point('a', 'f1', true, 'lung'),
    point('b', 'f2', false, 'default'),
    point('a', 'f3', true, 'lung'),
  ],
});

describe('analytics figures', () => {
  it('orders readers by total reading time, longest first, ties by name', () => {
    expect(readersByTime(response).map((r) => r.username)).toEqual(['alice', 'bob', 'carl']);
  });

  it('gives reading time per reader and scan in seconds, without empty pairs', () => {
    expect(readingTimeData(response)).toEqual([
      { readerId: 'a', reader: 'alice', scanId: 's1', seconds: 9 },
      { readerId: 'a', reader: 'alice', scanId: 's2', seconds: 3 },
      { readerId: 'b', reader: 'bob', scanId: 's1', seconds: 4 },
    ]);
  });

  it('draws survival and F1 only where they are defined (0 is drawn, undefined is not)', () => {
    expect(scoreData(response)).toEqual([
      { reader: 'alice', measure: 'survival', value: 1 },
      { reader: 'alice', measure: 'F1', value: 1 },
      { reader: 'bob', measure: 'survival', value: 0 },
      { reader: 'bob', measure: 'F1', value: 0 },
    ]);
  });

  it('names the reader and outcome of each recorded view and counts findings per preset', () => {
    const points = wlData(response);
    expect(points.map((p) => [p.reader, p.outcome, p.preset])).toEqual([
      ['alice', 'survived', 'lung'],
      ['bob', 'rejected', 'default'],
      ['alice', 'survived', 'lung'],
    ]);
    expect(presetCounts(points)).toEqual([
      { preset: 'default', outcome: 'rejected', findings: 1 },
      { preset: 'lung', outcome: 'survived', findings: 2 },
    ]);
  });

  it('splits votes per label into disputed and agreed, most disputed first, labels without votes left out', () => {
    expect(disputeData(response)).toEqual([
      { label: 'Nodule/Mass', kind: 'disputed', votes: 2 },
      { label: 'Nodule/Mass', kind: 'agreed', votes: 1 },
      { label: 'COPD', kind: 'disputed', votes: 0 },
      { label: 'COPD', kind: 'agreed', votes: 2 },
    ]);
  });

  it('formats durations and ratios for people', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(65_400)).toBe('1 min 05 s');
    expect(formatRatio(null)).toBe('—');
    expect(formatRatio(2 / 3)).toBe('67%');
  });
});
