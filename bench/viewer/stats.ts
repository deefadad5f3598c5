/** Nearest-rank quantile: with 10 samples p95 is the slowest one, so a single slow click shows. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);
export const p95 = (values: readonly number[]) => quantile(values, 0.95);
export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
export const list = (values: readonly number[]) => `[${values.map((x) => x.toFixed(0)).join(', ')}]`;
export const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
