import type { LocalLabel } from '../model/labels.js';
import type { Box } from '../model/schemas.js';
import { iou } from './iou.js';

/** One box a reader drew. `score` is the reader's confidence in (0, 1]; a human box defaults to 1. */
export interface ReaderBox<L extends string = LocalLabel> {
  readonly label: L;
  readonly box: Box;
  readonly score?: number;
}

/** Everything one reader drew on one scan. A reader who drew nothing still counts (empty `boxes`). */
export interface Reading<L extends string = LocalLabel> {
  readonly readerId: string;
  readonly boxes: readonly ReaderBox<L>[];
}

export interface WbfOptions {
  /** A box joins a cluster only if IoU with its fused box is strictly greater. Default 0.4 (Kaggle VOC). */
  readonly iouThreshold?: number;
  /**
   * Relative weight per reader id, > 0. Default: all equal. Only ratios matter (weights are
   * normalised to mean 1 over the readers given). If given, it must name every reader in the input.
   */
  readonly weights?: Readonly<Record<string, number>>;
  /**
   * Size of the panel the share is taken over. Default: the number of readings given. Set it
   * higher when a reader's reading is missing entirely and should count as "did not draw it";
   * it may not be lower than the number of readers given.
   */
  readonly nReaders?: number;
}

/** A reader's box that went into a proposal, as drawn. */
export interface ProposalSource {
  readonly readerId: string;
  readonly box: Box;
  readonly score: number;
}

/** One fused cluster: the box the panel is asked to accept, and who is behind it. */
export interface FusedProposal<L extends string = LocalLabel> {
  readonly label: L;
  readonly box: Box;
  /** Fraction of the panel (`nReaders`) with a box in the cluster, in (0, 1]. */
  readonly share: number;
  /**
   * WBF confidence: mean weighted score x min(cluster size, n) / n. Equals `share` when all
   * scores are 1 and weights are equal.
   */
  readonly confidence: number;
  /** One entry per reader (sorted by reader id): a cluster never holds two boxes of one reader. */
  readonly sources: readonly ProposalSource[];
}

export const DEFAULT_WBF_IOU_THRESHOLD = 0.4;

interface Candidate<L extends string> {
  readonly readerId: string;
  readonly label: L;
  readonly box: Box;
  readonly score: number;
  /** Score times the reader's normalised weight: the sort key and the averaging weight. */
  readonly weighted: number;
}

interface Cluster<L extends string> {
  readonly label: L;
  readonly members: Candidate<L>[];
  readonly readers: Set<string>;
  fused: Box;
}

/**
 * Reader-aware Weighted Boxes Fusion (Solovyev et al. 2021, as used by the VinBigData winners),
 * turning several readers' blind readings of one scan into proposals for the live panel.
 *
 * Rules (DOMAIN.md, issue 6):
 * 1. All boxes are visited in one deterministic order: weighted score descending, then reader id,
 *    label and coordinates ascending. The order of `readings` and of the boxes inside a reading
 *    therefore never changes the result (property-tested).
 * 2. A box joins the first cluster, in creation order, that has the same label, no box from the
 *    same reader yet, and whose current fused box has IoU > `iouThreshold` with it; otherwise it
 *    starts a new cluster. "One box per reader per cluster" is what makes `share` a fraction of
 *    readers: without it, a reader who drew two overlapping boxes would count twice.
 * 3. The fused box is the weighted-score mean of the cluster's coordinates, recomputed after
 *    every join (so later boxes are compared with the current consensus, not the seed box).
 * 4. Confidence is mean weighted score x min(size, n) / n; share is size / n.
 *
 * Labels never fuse across each other: two readers calling the same region different things
 * yield two proposals, which is a label conflict for the dispute queue, not something to average.
 *
 * Throws `RangeError` on malformed input (a duplicate reader id, a score outside (0, 1], a weight
 * <= 0 or missing, a threshold outside [0, 1), `nReaders` below the readers given): those are
 * bugs in the caller, not outcomes of a reading.
 *
 * Output is sorted by confidence descending, then label and coordinates, so it is stable too.
 */
export function weightedBoxesFusion<L extends string = LocalLabel>(
  readings: readonly Reading<L>[],
  options: WbfOptions = {},
): FusedProposal<L>[] {
  const threshold = options.iouThreshold ?? DEFAULT_WBF_IOU_THRESHOLD;
  if (!(threshold >= 0 && threshold < 1)) {
    throw new RangeError(`iouThreshold must be in [0, 1), got ${threshold}`);
  }

  // Sorting readers first makes every floating-point sum below run in the same order whatever
  // order the caller passed, so permuted input gives bit-identical output.
  const sorted = [...readings].sort((a, b) => compareStrings(a.readerId, b.readerId));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.readerId === sorted[i - 1]!.readerId) {
      throw new RangeError(`reader ${sorted[i]!.readerId} appears in more than one reading`);
    }
  }

  const nReaders = options.nReaders ?? sorted.length;
  if (!Number.isInteger(nReaders) || nReaders < sorted.length) {
    throw new RangeError(`nReaders must be an integer >= ${sorted.length} (readers given), got ${nReaders}`);
  }

  const weights = normalisedWeights(sorted, options.weights);
  const candidates: Candidate<L>[] = [];
  for (const reading of sorted) {
    const weight = weights.get(reading.readerId)!;
    for (const { label, box, score = 1 } of reading.boxes) {
      if (!(score > 0 && score <= 1)) {
        throw new RangeError(`score must be in (0, 1], got ${score} (reader ${reading.readerId})`);
      }
      if (![box.x_min, box.y_min, box.x_max, box.y_max].every(Number.isFinite)) {
        throw new RangeError(`box coordinates must be finite (reader ${reading.readerId})`);
      }
      candidates.push({ readerId: reading.readerId, label, box, score, weighted: score * weight });
    }
  }
  candidates.sort(compareCandidates);

  const clusters: Cluster<L>[] = [];
  for (const candidate of candidates) {
    const home = clusters.find(
      (c) =>
        c.label === candidate.label &&
        !c.readers.has(candidate.readerId) &&
        iou(c.fused, candidate.box) > threshold,
    );
    if (home) {
      home.members.push(candidate);
      home.readers.add(candidate.readerId);
      home.fused = fuse(home.members);
    } else {
      clusters.push({
        label: candidate.label,
        members: [candidate],
        readers: new Set([candidate.readerId]),
        fused: { ...candidate.box },
      });
    }
  }

  return clusters.map((c) => toProposal(c, nReaders)).sort(compareProposals);
}

/**
 * Weights normalised to mean 1 over the readers given, so that with equal weights the weighted
 * score is the raw score and confidence stays in [0, 1] whatever scale the caller used.
 */
function normalisedWeights(
  readings: readonly Reading<string>[],
  raw: Readonly<Record<string, number>> | undefined,
): Map<string, number> {
  const weights = new Map<string, number>();
  if (readings.length === 0) return weights;
  let sum = 0;
  for (const { readerId } of readings) {
    const w = raw === undefined ? 1 : raw[readerId];
    if (w === undefined || !(w > 0 && Number.isFinite(w))) {
      throw new RangeError(`weight for reader ${readerId} must be a finite number > 0, got ${w}`);
    }
    weights.set(readerId, w);
    sum += w;
  }
  const mean = sum / readings.length;
  for (const [id, w] of weights) weights.set(id, w / mean);
  return weights;
}

/** Weighted-score mean of the members' coordinates. */
function fuse(members: readonly Candidate<string>[]): Box {
  let total = 0;
  let x0 = 0;
  let y0 = 0;
  let x1 = 0;
  let y1 = 0;
  for (const { box, weighted } of members) {
    total += weighted;
    x0 += weighted * box.x_min;
    y0 += weighted * box.y_min;
    x1 += weighted * box.x_max;
    y1 += weighted * box.y_max;
  }
  // A weighted mean lies between the smallest and largest value in exact arithmetic; rounding
  // can step one ulp outside, so clamp to keep "fused box inside its sources' hull" exact.
  const clamp = (v: number, pick: (b: Box) => number) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const m of members) {
      lo = Math.min(lo, pick(m.box));
      hi = Math.max(hi, pick(m.box));
    }
    return Math.min(hi, Math.max(lo, v));
  };
  return {
    x_min: clamp(x0 / total, (b) => b.x_min),
    y_min: clamp(y0 / total, (b) => b.y_min),
    x_max: clamp(x1 / total, (b) => b.x_max),
    y_max: clamp(y1 / total, (b) => b.y_max),
  };
}

function toProposal<L extends string>(cluster: Cluster<L>, nReaders: number): FusedProposal<L> {
  const size = cluster.members.length;
  const meanWeighted = cluster.members.reduce((s, m) => s + m.weighted, 0) / size;
  return {
    label: cluster.label,
    box: cluster.fused,
    share: size / nReaders,
    confidence: (meanWeighted * Math.min(size, nReaders)) / nReaders,
    sources: cluster.members
      .map((m) => ({ readerId: m.readerId, box: m.box, score: m.score }))
      .sort((a, b) => compareStrings(a.readerId, b.readerId)),
  };
}

/**
 * Code-unit order, not `localeCompare`: the result must not depend on the server's or the
 * browser's locale, or two nodes could fuse the same readings differently.
 */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBoxes(a: Box, b: Box): number {
  return a.x_min - b.x_min || a.y_min - b.y_min || a.x_max - b.x_max || a.y_max - b.y_max;
}

function compareCandidates(a: Candidate<string>, b: Candidate<string>): number {
  return (
    b.weighted - a.weighted ||
    compareStrings(a.readerId, b.readerId) ||
    compareStrings(a.label, b.label) ||
    compareBoxes(a.box, b.box)
  );
}

function compareProposals(a: FusedProposal<string>, b: FusedProposal<string>): number {
  return b.confidence - a.confidence || compareStrings(a.label, b.label) || compareBoxes(a.box, b.box);
}
