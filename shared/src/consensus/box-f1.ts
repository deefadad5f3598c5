import type { LocalLabel } from '../model/labels.js';
import type { Box } from '../model/schemas.js';
import { hungarian } from './hungarian.js';
import { iou } from './iou.js';

/** A labelled box as one reader drew it (score is irrelevant to agreement). */
export interface LabelledBox<L extends string = LocalLabel> {
  readonly label: L;
  readonly box: Box;
}

/**
 * Two boxes match for F1 at IoU >= this (inclusive, as DOMAIN.md states it). Note the Kaggle
 * VinBigData mAP uses IoU > 0.4; the two differ only for pairs at exactly 0.4.
 */
export const DEFAULT_F1_IOU_THRESHOLD = 0.4;

/** One matched pair: indices into the two input lists. */
export interface BoxMatch {
  readonly a: number;
  readonly b: number;
  readonly iou: number;
}

export interface BoxAgreement {
  /** Matched pairs, sorted by index in `a`. */
  readonly matches: readonly BoxMatch[];
  readonly truePositives: number;
  /** Boxes of `a` with no match. */
  readonly onlyA: number;
  /** Boxes of `b` with no match. */
  readonly onlyB: number;
  /**
   * 2 TP / (|A| + |B|): symmetric, so neither reader is "the truth". `null` when neither reader
   * drew a box: F1 is 0/0 there, and whether "both saw nothing" counts as agreement is for the
   * caller (the dashboard shows it apart from a number).
   */
  readonly f1: number | null;
}

/**
 * Agreement between two readers' boxes: within each label, a one-to-one matching of A's boxes
 * to B's with IoU >= `iouThreshold`, then F1 = 2 TP / (|A| + |B|).
 *
 * The matching (Hungarian, per label) maximises first the number of matched pairs and then,
 * among matchings of that size, the total IoU. Maximising IoU alone could prefer one excellent
 * pair over two good ones and so understate agreement. We get the lexicographic order with a
 * single cost: each eligible pair costs -(K + IoU) with K = min(|A|, |B|) for the label, and since
 * total IoU < K, one extra pair always outweighs any IoU gain. Ineligible pairs cost 0 and are
 * dropped from the result.
 */
export function boxAgreement<L extends string>(
  a: readonly LabelledBox<L>[],
  b: readonly LabelledBox<L>[],
  options: { readonly iouThreshold?: number } = {},
): BoxAgreement {
  const threshold = options.iouThreshold ?? DEFAULT_F1_IOU_THRESHOLD;
  if (!(threshold > 0 && threshold <= 1)) {
    // 0 would let disjoint boxes (IoU 0) match, which is never what agreement means.
    throw new RangeError(`iouThreshold must be in (0, 1], got ${threshold}`);
  }
  const matches: BoxMatch[] = [];
  for (const label of new Set([...a.map((x) => x.label), ...b.map((x) => x.label)])) {
    const ia = indicesOf(a, label);
    const ib = indicesOf(b, label);
    if (ia.length === 0 || ib.length === 0) continue;
    const k = Math.min(ia.length, ib.length);
    const overlaps = ia.map((i) => ib.map((j) => iou(a[i]!.box, b[j]!.box)));
    const cost = overlaps.map((row) => row.map((o) => (o >= threshold ? -(k + o) : 0)));
    const { rowToCol } = hungarian(cost);
    rowToCol.forEach((col, row) => {
      if (col < 0) return;
      const o = overlaps[row]![col]!;
      if (o >= threshold) matches.push({ a: ia[row]!, b: ib[col]!, iou: o });
    });
  }
  matches.sort((x, y) => x.a - y.a);
  const tp = matches.length;
  const total = a.length + b.length;
  return {
    matches,
    truePositives: tp,
    onlyA: a.length - tp,
    onlyB: b.length - tp,
    f1: total === 0 ? null : (2 * tp) / total,
  };
}

/** Pairwise F1 of two readers' boxes; see {@link boxAgreement}. */
export function pairwiseF1<L extends string>(
  a: readonly LabelledBox<L>[],
  b: readonly LabelledBox<L>[],
  options: { readonly iouThreshold?: number } = {},
): number | null {
  return boxAgreement(a, b, options).f1;
}

/** F1 for one pair of readers on one scan. */
export interface ReaderPairF1 {
  readonly readerA: string;
  readonly readerB: string;
  readonly f1: number | null;
}

/**
 * F1 for every pair of readers (reader ids in code-unit order, A < B), plus the mean over the
 * pairs where F1 is defined (`null` if none is): the panel-level box agreement for one scan.
 */
export function panelBoxF1<L extends string>(
  readings: readonly { readonly readerId: string; readonly boxes: readonly LabelledBox<L>[] }[],
  options: { readonly iouThreshold?: number } = {},
): { readonly pairs: readonly ReaderPairF1[]; readonly meanF1: number | null } {
  const sorted = [...readings].sort((x, y) =>
    x.readerId < y.readerId ? -1 : x.readerId > y.readerId ? 1 : 0,
  );
  const pairs: ReaderPairF1[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const x = sorted[i]!;
      const y = sorted[j]!;
      pairs.push({ readerA: x.readerId, readerB: y.readerId, f1: pairwiseF1(x.boxes, y.boxes, options) });
    }
  }
  const defined = pairs.flatMap((p) => (p.f1 === null ? [] : [p.f1]));
  const meanF1 = defined.length === 0 ? null : defined.reduce((s, f) => s + f, 0) / defined.length;
  return { pairs, meanF1 };
}

function indicesOf<L extends string>(boxes: readonly LabelledBox<L>[], label: L): number[] {
  const out: number[] = [];
  boxes.forEach((x, i) => {
    if (x.label === label) out.push(i);
  });
  return out;
}
