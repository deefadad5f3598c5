import { GLOBAL_LABELS, type GlobalLabel } from '../model/labels.js';
import { fleissKappa } from './fleiss.js';
import { krippendorffAlpha, type Rating } from './krippendorff.js';

/**
 * One reader's image-level labels on one scan: the labels listed are 1, every other global
 * label is 0 (the `image_labels_train.csv` row of that reader).
 */
export interface GlobalReading {
  readonly readerId: string;
  readonly labels: readonly GlobalLabel[];
}

/** Majority verdict for one global label; a tie goes to the panel (DOMAIN.md). */
export type MajorityVerdict = 'present' | 'absent' | 'tie';

export interface GlobalLabelTally {
  readonly label: GlobalLabel;
  /** Reader ids that marked the label, in code-unit order. */
  readonly readers: readonly string[];
  /** `readers.length / nReaders`. */
  readonly share: number;
  readonly majority: MajorityVerdict;
}

/**
 * Per-reader tallies of the 6 global labels for the reveal: who marked what, the share, and the
 * strict-majority verdict (2 of 3 is present, 1 of 3 absent, 1 of 2 a tie). `nReaders` defaults
 * to the readings given; raise it to count a missing reader as "not marked".
 * Returned in `GLOBAL_LABELS` order. Throws `RangeError` on duplicate reader ids or a too-small
 * `nReaders`.
 */
export function tallyGlobalLabels(
  readings: readonly GlobalReading[],
  options: { readonly nReaders?: number } = {},
): GlobalLabelTally[] {
  assertDistinctReaders(readings);
  const n = options.nReaders ?? readings.length;
  if (!Number.isInteger(n) || n < readings.length) {
    throw new RangeError(`nReaders must be an integer >= ${readings.length}, got ${n}`);
  }
  return GLOBAL_LABELS.map((label) => {
    const readers = readings
      .filter((r) => r.labels.includes(label))
      .map((r) => r.readerId)
      .sort(compareStrings);
    const twice = 2 * readers.length;
    const majority: MajorityVerdict = twice > n ? 'present' : twice < n ? 'absent' : 'tie';
    return { label, readers, share: n === 0 ? 0 : readers.length / n, majority };
  });
}

/** Agreement on one global label across the scans given. */
export interface LabelAgreement {
  readonly label: GlobalLabel;
  /** Fleiss' kappa, subjects = scans, categories = {absent, present}; `null` when undefined. */
  readonly kappa: number | null;
  /** Krippendorff's nominal alpha, coders = readers, units = scans; `null` when undefined. */
  readonly alpha: number | null;
  /** How many (reader, scan) ratings said present, out of `ratings`. */
  readonly positives: number;
  readonly ratings: number;
}

export interface GlobalLabelAgreement {
  /** One entry per global label, in `GLOBAL_LABELS` order. */
  readonly perLabel: readonly LabelAgreement[];
  /** Krippendorff's nominal alpha over every (scan, label) unit at once. */
  readonly alpha: number | null;
}

/**
 * Reader agreement on the 6 global labels, for one scan (pass `[readings]`) or a session (one
 * entry per scan). Each label is a yes/no question per scan, so kappa and alpha are computed per
 * label. A reader absent from a scan is a missing value: Fleiss' kappa uses that scan's own
 * rater count and alpha simply skips it, rather than counting absence as "no".
 *
 * Kappa and alpha are `null` wherever they are undefined, most often because every reader gave
 * the same answer on every scan (perfect agreement with no variation: chance-corrected
 * agreement is 0/0). On a single scan that is the common case; the dashboard should show it as
 * "unanimous", not as 0 or 1.
 */
export function globalLabelAgreement(scans: readonly (readonly GlobalReading[])[]): GlobalLabelAgreement {
  for (const scan of scans) assertDistinctReaders(scan);
  const coders = [...new Set(scans.flatMap((s) => s.map((r) => r.readerId)))].sort(compareStrings);
  const byReader = scans.map((s) => new Map(s.map((r) => [r.readerId, new Set(r.labels)])));

  // rating(label, coder, scan): 1 / 0, or null when that reader did not read that scan.
  const rating = (label: GlobalLabel, coder: string, scan: number): Rating<number> => {
    const labels = byReader[scan]!.get(coder);
    return labels === undefined ? null : labels.has(label) ? 1 : 0;
  };

  const perLabel = GLOBAL_LABELS.map((label): LabelAgreement => {
    const counts = byReader.map((scan) => {
      let present = 0;
      for (const labels of scan.values()) if (labels.has(label)) present += 1;
      return [scan.size - present, present];
    });
    const data = coders.map((c) => scans.map((_, s) => rating(label, c, s)));
    return {
      label,
      kappa: fleissKappa(counts),
      alpha: krippendorffAlpha(data),
      positives: counts.reduce((sum, [, p]) => sum + p!, 0),
      ratings: counts.reduce((sum, [a, p]) => sum + a! + p!, 0),
    };
  });

  const allUnits = coders.map((c) =>
    scans.flatMap((_, s) => GLOBAL_LABELS.map((label) => rating(label, c, s))),
  );
  return { perLabel, alpha: krippendorffAlpha(allUnits) };
}

function assertDistinctReaders(readings: readonly GlobalReading[]): void {
  const seen = new Set<string>();
  for (const { readerId } of readings) {
    if (seen.has(readerId)) throw new RangeError(`reader ${readerId} appears more than once on one scan`);
    seen.add(readerId);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
