import { hungarian } from '../consensus/hungarian.js';
import { iou } from '../consensus/iou.js';
import type { Box } from '../model/schemas.js';

/** A reader's finding survives when it matches a consensus finding of its label at this IoU. */
export const SURVIVAL_IOU = 0.4;

export interface MatchableFinding {
  readonly id: string;
  readonly labels: readonly string[];
  readonly box: Box;
}

export interface SurvivalResult {
  /** Ids of the reader's findings matched to a consensus finding on at least one label. */
  readonly survived: ReadonlySet<string>;
  /** Matched (label, box) pairs: true positives. */
  readonly matches: number;
  /** The reader's (label, box) pairs and the consensus's: the denominators of P and R. */
  readonly readerItems: number;
  readonly consensusItems: number;
}

// A forbidden pair (another label's box, IoU below the threshold) costs far more than any
// allowed one (at most 1), so the assignment first maximises the number of matches, then IoU.
const FORBIDDEN = 1e6;

/**
 * One-to-one matching of a reader's findings against the consensus, per label (a finding with
 * two labels is two items): the Hungarian algorithm on 1 - IoU, pairs below `threshold`
 * discarded. Two boxes of one reader over one consensus box: only the better one survives.
 * Each reader is matched on their own, so two readers can both survive on one consensus box.
 */
export function matchSurvival(
  reader: readonly MatchableFinding[],
  consensus: readonly MatchableFinding[],
  threshold: number = SURVIVAL_IOU,
): SurvivalResult {
  const labels = new Set([...reader, ...consensus].flatMap((f) => f.labels));
  const survived = new Set<string>();
  let matches = 0;
  for (const label of labels) {
    const rows = reader.filter((f) => f.labels.includes(label));
    const cols = consensus.filter((f) => f.labels.includes(label));
    if (rows.length === 0 || cols.length === 0) continue;
    const overlap = rows.map((r) => cols.map((c) => iou(r.box, c.box)));
    const cost = overlap.map((row) => row.map((o) => (o >= threshold ? 1 - o : FORBIDDEN)));
    const { rowToCol } = hungarian(cost);
    rowToCol.forEach((col, i) => {
      if (col >= 0 && overlap[i]![col]! >= threshold) {
        matches++;
        survived.add(rows[i]!.id);
      }
    });
  }
  const items = (list: readonly MatchableFinding[]) => list.reduce((n, f) => n + new Set(f.labels).size, 0);
  return { survived, matches, readerItems: items(reader), consensusItems: items(consensus) };
}
