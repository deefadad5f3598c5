/** A value one coder gave one unit; `null` (or `undefined`) = this coder did not rate this unit. */
export type Rating<V> = V | null | undefined;

/**
 * Reliability data as Krippendorff lays it out: one row per coder (reader), one column per unit
 * (scan, or scan x label). Rows must all have the same length.
 */
export type ReliabilityData<V> = readonly (readonly Rating<V>[])[];

/** Difference functions we support: nominal (same / different) and interval (squared distance). */
export type AlphaMetric = 'nominal' | 'interval';

/**
 * Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"):
 * alpha = 1 - D_o / D_e, computed from the coincidence matrix so that missing values are simply
 * left out. That tolerance is why we use it next to Fleiss' kappa: a reader who skipped a scan
 * does not force the whole scan out.
 *
 * Units with fewer than 2 values are not pairable and are dropped, as the method prescribes.
 *
 * Returns `null` when alpha is undefined: no pairable unit, or expected disagreement D_e = 0
 * (all pairable values equal, so there is no variation to be reliable about).
 *
 * Nominal values may be strings or numbers (compared with `===` after keying); interval values
 * must be finite numbers. Throws `RangeError` on ragged rows or a non-finite interval value.
 */
export function krippendorffAlpha(data: ReliabilityData<number>, metric: 'interval'): number | null;
export function krippendorffAlpha(data: ReliabilityData<number | string>, metric?: 'nominal'): number | null;
export function krippendorffAlpha(
  data: ReliabilityData<number | string>,
  metric: AlphaMetric = 'nominal',
): number | null {
  const units = data[0]?.length ?? 0;
  for (const [c, row] of data.entries()) {
    if (row.length !== units) throw new RangeError(`coder ${c} rated ${row.length} units, expected ${units}`);
  }

  // Value keys are typed strings ("n:3", "s:3") so the number 3 and the string "3" stay distinct.
  const numeric = new Map<string, number>();
  const key = (v: number | string) => `${typeof v === 'number' ? 'n' : 's'}:${v}`;
  // Coincidences o_ck, stored sparsely: each pairable unit adds n_uc * n_uk / (m_u - 1) for c != k
  // and n_uc * (n_uc - 1) / (m_u - 1) for c == k.
  const coincidence = new Map<string, Map<string, number>>();
  const add = (c: string, k: string, w: number) => {
    let row = coincidence.get(c);
    if (!row) {
      row = new Map();
      coincidence.set(c, row);
    }
    row.set(k, (row.get(k) ?? 0) + w);
  };

  for (let u = 0; u < units; u++) {
    const perValue = new Map<string, number>();
    let m = 0;
    for (const row of data) {
      const v = row[u];
      if (v === null || v === undefined) continue;
      if (metric === 'interval' && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new RangeError(`interval alpha needs finite numbers, got ${String(v)} in unit ${u}`);
      }
      const kv = key(v);
      if (typeof v === 'number') numeric.set(kv, v);
      perValue.set(kv, (perValue.get(kv) ?? 0) + 1);
      m += 1;
    }
    if (m < 2) continue;
    for (const [c, nc] of perValue) {
      for (const [k, nk] of perValue) {
        add(c, k, (c === k ? nc * (nc - 1) : nc * nk) / (m - 1));
      }
    }
  }

  const marginals = new Map<string, number>();
  let n = 0;
  for (const [c, row] of coincidence) {
    let nc = 0;
    for (const o of row.values()) nc += o;
    marginals.set(c, nc);
    n += nc;
  }
  if (n === 0) return null;

  const delta = (c: string, k: string): number => {
    if (metric === 'nominal') return c === k ? 0 : 1;
    // Interval input was checked to be numeric above, so both keys are present.
    return (numeric.get(c)! - numeric.get(k)!) ** 2;
  };

  let observed = 0;
  for (const [c, row] of coincidence) {
    for (const [k, o] of row) observed += o * delta(c, k);
  }
  let expected = 0;
  for (const [c, nc] of marginals) {
    for (const [k, nk] of marginals) expected += nc * nk * delta(c, k);
  }
  if (expected === 0) return null;
  return 1 - ((n - 1) * observed) / expected;
}
