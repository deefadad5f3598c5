import { writeCsv } from '../export/csv-text.js';
import { ANALYTICS_CSV_COLUMNS, type AnalyticsRow } from '../protocol/analytics.js';

// Null (undefined: no locked record, no capture) prints as an empty field: pandas reads NaN.
const cell = (value: string | number | null): string => (value === null ? '' : String(value));

/**
 * R-ANALYTICS-9: the rows as RFC 4180 CSV (header first, a field quoted only when it holds a
 * comma, a quote or a line break), one line per reader x scan; `pandas.read_csv` reads it as is.
 */
export function analyticsCsv(rows: readonly AnalyticsRow[]): string {
  return writeCsv([
    [...ANALYTICS_CSV_COLUMNS],
    ...rows.map((r) =>
      [
        r.sessionId,
        r.scanId,
        r.readerId,
        r.username,
        r.activeMs,
        r.timeToFirstFindingMs,
        r.findings,
        r.survived,
        r.consensusFindings,
        r.precision,
        r.recall,
        r.f1,
        r.globalAgreement,
        r.toolUses,
        r.tools,
      ].map(cell),
    ),
  ]);
}
