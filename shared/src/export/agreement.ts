import { boxAgreement, DEFAULT_F1_IOU_THRESHOLD, type LabelledBox } from '../consensus/box-f1.js';
import { GLOBAL_LABELS, type GlobalLabel } from '../model/labels.js';
import type { ImageReading, ReaderReading } from './readings.js';

/** How one reader's readings compare with the locked consensus of the same images. */
export interface ReaderVsConsensus {
  readonly radId: string;
  /** Images the reader read that have a locked consensus. */
  readonly images: number;
  /** Boxes summed over images, matched per label at IoU >= threshold (one to one). */
  readonly boxes: {
    readonly matched: number;
    readonly readerOnly: number;
    readonly consensusOnly: number;
    /** 2 TP / (reader boxes + consensus boxes); `null` when neither drew a box. */
    readonly f1: number | null;
  };
  /** Per global label: on how many images reader and consensus agree (both have it or neither). */
  readonly globals: Readonly<Record<GlobalLabel, { readonly agree: number; readonly of: number }>>;
}

const labelled = (r: ImageReading): LabelledBox[] =>
  r.findings.flatMap((f) => f.labels.map((label) => ({ label, box: f.box })));

/**
 * R-EXPORT-11: each reader against the locked consensus, the way VinDr-CXR measured its readers
 * against the test-set reference: box F1 over all their images (micro-averaged) and, per global
 * label, the share of images where they agree. Readings of images without a consensus are
 * ignored; readers come out in the order they first appear.
 */
export function readersVsConsensus(
  readings: readonly ReaderReading[],
  consensus: readonly ImageReading[],
  options: { readonly iouThreshold?: number } = {},
): ReaderVsConsensus[] {
  const reference = new Map(consensus.map((c) => [c.imageId, c]));
  const byReader = new Map<string, ReaderReading[]>();
  for (const r of readings) {
    if (!reference.has(r.imageId)) continue;
    const list = byReader.get(r.radId);
    if (list) list.push(r);
    else byReader.set(r.radId, [r]);
  }
  return [...byReader].map(([radId, own]) => {
    let matched = 0;
    let readerOnly = 0;
    let consensusOnly = 0;
    const globals = Object.fromEntries(GLOBAL_LABELS.map((g) => [g, { agree: 0, of: 0 }])) as Record<
      GlobalLabel,
      { agree: number; of: number }
    >;
    for (const r of own) {
      const ref = reference.get(r.imageId)!;
      const a = boxAgreement(labelled(r), labelled(ref), {
        iouThreshold: options.iouThreshold ?? DEFAULT_F1_IOU_THRESHOLD,
      });
      matched += a.truePositives;
      readerOnly += a.onlyA;
      consensusOnly += a.onlyB;
      for (const g of GLOBAL_LABELS) {
        globals[g].of += 1;
        if (r.globals.includes(g) === ref.globals.includes(g)) globals[g].agree += 1;
      }
    }
    const total = 2 * matched + readerOnly + consensusOnly;
    return {
      radId,
      images: own.length,
      boxes: { matched, readerOnly, consensusOnly, f1: total === 0 ? null : (2 * matched) / total },
      globals,
    };
  });
}
