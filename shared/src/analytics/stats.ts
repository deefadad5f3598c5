/**
 * Quantile with linear interpolation between closest ranks (the default of numpy and pandas),
 * so a CSV reader computing `df.active_ms.quantile(0.9)` gets the number the API printed.
 * Null for an empty list.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]): number | null => quantile(values, 0.5);

/** A ratio or null when the denominator is 0 (undefined, not zero). */
export const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** Harmonic mean of precision and recall; null when either is undefined. */
export function f1Of(precision: number | null, recall: number | null): number | null {
  if (precision === null || recall === null) return null;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Four decimals: what the JSON and the CSV both print, so they agree exactly. */
export const round4 = (value: number | null): number | null =>
  value === null ? null : Math.round(value * 10_000) / 10_000;
