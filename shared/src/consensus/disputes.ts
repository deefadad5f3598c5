import type { LocalLabel } from '../model/labels.js';
import { iou } from './iou.js';
import type { FusedProposal } from './wbf.js';

/**
 * Why a proposal goes to a vote. Proposals are referred to by index into the list given, so the
 * caller keeps its own ids (the server stores proposals in the scan document under its own keys).
 */
export type Dispute =
  /** Fewer readers behind it than the quorum. */
  | { readonly kind: 'below-quorum'; readonly proposal: number; readonly share: number }
  /**
   * Two proposals with different labels on the same region (IoU > threshold). This may be
   * legitimate co-labelling (VinDr findings can carry several labels, e.g. Consolidation and
   * Infiltration), so it is listed for the panel to decide, never resolved here.
   */
  | { readonly kind: 'label-conflict'; readonly proposals: readonly [number, number]; readonly iou: number };

export interface DisputeOptions {
  /**
   * Minimum share (inclusive) for a proposal to stand without a vote. Default: a strict majority
   * (share > 1/2), the same rule as global labels, so 2 of 3 stands and 1 of 2 is a tie for the panel.
   */
  readonly minShare?: number;
  /** Overlap above which two differently labelled proposals conflict. Default 0.4, as in fusion. */
  readonly iouThreshold?: number;
}

/**
 * The dispute queue for one scan after fusion: every proposal below quorum, then every pair of
 * differently labelled proposals that overlap, each list in index order so the queue is stable.
 */
export function findDisputes<L extends string = LocalLabel>(
  proposals: readonly FusedProposal<L>[],
  options: DisputeOptions = {},
): Dispute[] {
  const threshold = options.iouThreshold ?? 0.4;
  const { minShare } = options;
  // Shares are k / n; a tiny tolerance keeps e.g. 2/3 >= 0.6666666666666666 from failing on rounding.
  const quorate = (share: number) => (minShare === undefined ? share > 0.5 : share >= minShare - 1e-12);

  const disputes: Dispute[] = [];
  proposals.forEach((p, i) => {
    if (!quorate(p.share)) disputes.push({ kind: 'below-quorum', proposal: i, share: p.share });
  });
  for (let i = 0; i < proposals.length; i++) {
    for (let j = i + 1; j < proposals.length; j++) {
      const a = proposals[i]!;
      const b = proposals[j]!;
      if (a.label === b.label) continue;
      const overlap = iou(a.box, b.box);
      if (overlap > threshold) disputes.push({ kind: 'label-conflict', proposals: [i, j], iou: overlap });
    }
  }
  return disputes;
}
