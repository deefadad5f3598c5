import { describe, expect, it } from 'vitest';
import { readCsv } from '../export/csv-text.js';
import { ANALYTICS_CSV_COLUMNS, type AnalyticsRow } from '../protocol/analytics.js';
import { analyticsCsv } from './csv.js';

const row: AnalyticsRow = {
  sessionId: 'S',
  scanId: 's1',
  readerId: 'r1',
  username: 'o"neil, jr',
  activeMs: 40_000,
  timeToFirstFindingMs: null,
  findings: 2,
  survived: 1,
  consensusFindings: 2,
  precision: 0.5,
  recall: null,
  f1: null,
  globalAgreement: 0.8333,
  toolUses: 7,
  tools: 'draw=2;wl=5',
};

describe('analyticsCsv (R-ANALYTICS-9)', () => {
  it('writes a header and one RFC 4180 line per row; nulls are empty fields', () => {
    const text = analyticsCsv([row]);
    expect(text.split('\n')[0]).toBe(ANALYTICS_CSV_COLUMNS.join(','));
    expect(text.split('\n')[1]).toBe('S,s1,r1,"o""neil, jr",40000,,2,1,2,0.5,,,0.8333,7,draw=2;wl=5');
    const { records, problems } = readCsv(text);
    expect(problems).toEqual([]);
    expect(records[1]?.fields[3]).toBe('o"neil, jr');
    expect(text.endsWith('\n')).toBe(true);
  });
});
