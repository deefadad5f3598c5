export type { ConsensusRecord, Finding } from '@cxr/shared';

/** Nearest-rank percentile of a list of timings. */
export function percentileOf(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
