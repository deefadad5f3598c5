import type { AnalyticsResponse, ViewerPreset } from '@cxr/shared';

/**
 * What the moderator's analytics plots draw, from the server's `AnalyticsResponse`: flat rows
 * with display names, one function per plot. Pure so the numbers on screen are tested
 * without a DOM (the plotting itself is Observable Plot's).
 */

export interface ReadingTimeDatum {
  readonly readerId: string;
  readonly reader: string;
  readonly scanId: string;
  readonly seconds: number;
}

/** Readers by total reading time, longest first (ties by name, so the order is stable). */
export function readersByTime(a: AnalyticsResponse): AnalyticsResponse['readers'] {
  return [...a.readers].sort(
    (x, y) => y.activeMsTotal - x.activeMsTotal || x.username.localeCompare(y.username),
  );
}

/** Active reading time per reader and scan, in seconds; reader x scan pairs with no time are left out. */
export function readingTimeData(a: AnalyticsResponse): ReadingTimeDatum[] {
  return a.rows
    .filter((r) => r.activeMs > 0)
    .map((r) => ({ readerId: r.readerId, reader: r.username, scanId: r.scanId, seconds: r.activeMs / 1000 }));
}

export interface ScoreDatum {
  readonly reader: string;
  readonly measure: 'survival' | 'F1';
  readonly value: number;
}

/** Survival and F1 per reader; undefined ratios (nothing locked, no findings) are not drawn as 0. */
export function scoreData(a: AnalyticsResponse): ScoreDatum[] {
  return readersByTime(a).flatMap((r) => [
    ...(r.survival === null ? [] : [{ reader: r.username, measure: 'survival' as const, value: r.survival }]),
    ...(r.f1 === null ? [] : [{ reader: r.username, measure: 'F1' as const, value: r.f1 }]),
  ]);
}

export type Outcome = 'survived' | 'rejected';

export interface WlDatum {
  readonly readerId: string;
  readonly reader: string;
  readonly findingId: string;
  readonly scanId: string;
  readonly label: string;
  readonly outcome: Outcome;
  readonly preset: ViewerPreset;
  readonly windowCenter: number;
  readonly windowWidth: number;
  readonly zoom: number;
  readonly invert: boolean;
}

/** Each reader finding with a recorded view: the window it was drawn in and whether it survived. */
export function wlData(a: AnalyticsResponse): WlDatum[] {
  const names = new Map(a.readers.map((r) => [r.readerId, r.username]));
  return a.wlBySurvival.map((p) => ({
    readerId: p.readerId,
    reader: names.get(p.readerId) ?? p.readerId,
    findingId: p.findingId,
    scanId: p.scanId,
    label: p.label,
    outcome: p.survived ? 'survived' : 'rejected',
    preset: p.preset,
    windowCenter: p.windowCenter,
    windowWidth: p.windowWidth,
    zoom: p.zoom,
    invert: p.invert,
  }));
}

export interface PresetCount {
  readonly preset: ViewerPreset;
  readonly outcome: Outcome;
  readonly findings: number;
}

/** How many surviving and rejected findings were drawn in each preset. */
export function presetCounts(points: readonly WlDatum[]): PresetCount[] {
  const counts = new Map<string, PresetCount>();
  for (const p of points) {
    const key = `${p.preset}\u0000${p.outcome}`;
    const c = counts.get(key);
    counts.set(key, { preset: p.preset, outcome: p.outcome, findings: (c?.findings ?? 0) + 1 });
  }
  return [...counts.values()].sort(
    (x, y) => x.preset.localeCompare(y.preset) || x.outcome.localeCompare(y.outcome),
  );
}

export interface DisputeDatum {
  readonly label: string;
  readonly kind: 'agreed' | 'disputed';
  readonly votes: number;
}

/** Votes per label split into agreed and disputed, labels with the most disputes first. */
export function disputeData(a: AnalyticsResponse): DisputeDatum[] {
  return [...a.disputesByLabel]
    .filter((d) => d.votes > 0 || d.disputes > 0)
    .sort((x, y) => y.disputes - x.disputes || y.votes - x.votes || x.label.localeCompare(y.label))
    .flatMap((d) => [
      { label: d.label, kind: 'disputed' as const, votes: d.disputes },
      { label: d.label, kind: 'agreed' as const, votes: Math.max(0, d.votes - d.disputes) },
    ]);
}

/** `1 min 05 s`, `12.3 s`, `—` for undefined. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** `67%`, `—` for undefined (0/0). */
export function formatRatio(r: number | null): string {
  return r === null ? '—' : `${Math.round(r * 100)}%`;
}
