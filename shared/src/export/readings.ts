import type { ConsensusRecord } from '../model/consensus-record.js';
import { GLOBAL_LABELS, type GlobalLabel, LOCAL_LABELS, type LocalLabel } from '../model/labels.js';
import type { Box, Decision } from '../model/schemas.js';

/** One box with its local labels, as exports see it (no authorship, no ids). */
export interface ExportFinding {
  readonly labels: readonly LocalLabel[];
  readonly box: Box;
}

/** What one image is said to show: the consensus, or one reader's reading. */
export interface ImageReading {
  /** VinDr's `image_id` (our scan id). */
  readonly imageId: string;
  readonly findings: readonly ExportFinding[];
  readonly globals: readonly GlobalLabel[];
}

/** One reader's reading of one image, for the train layout (`rad_id`). */
export interface ReaderReading extends ImageReading {
  readonly radId: string;
}

/** A locked scan ready to export: its consensus content, image size and record identity. */
export interface ConsensusImage extends ImageReading {
  readonly rows: number;
  readonly columns: number;
  readonly version: number;
  readonly sha256: string;
}

const localOrder = new Map<string, number>(LOCAL_LABELS.map((l, i) => [l, i]));
const globalOrder = new Map<string, number>(GLOBAL_LABELS.map((l, i) => [l, i]));

/** Labels in the order of the CSV columns, so output does not depend on click order. */
export function sortLocalLabels(labels: readonly LocalLabel[]): LocalLabel[] {
  return [...new Set(labels)].sort((a, b) => localOrder.get(a)! - localOrder.get(b)!);
}

export function sortGlobalLabels(labels: readonly GlobalLabel[]): GlobalLabel[] {
  return [...new Set(labels)].sort((a, b) => globalOrder.get(a)! - globalOrder.get(b)!);
}

/**
 * R-EXPORT-1: what a locked record says the image shows. A finding or global label is in the
 * consensus when its decision is `accepted` or when it has no decision (a plain lock without
 * votes); `rejected` ones are left out. When a target was decided twice the latest decision
 * counts.
 */
export function consensusContent(record: ConsensusRecord): ImageReading {
  const outcome = new Map<string, Decision>();
  for (const d of record.decisions) {
    const key = d.target.kind === 'finding' ? `f:${d.target.id}` : `g:${d.target.label}`;
    const previous = outcome.get(key);
    if (!previous || previous.decidedAt <= d.decidedAt) outcome.set(key, d);
  }
  const kept = (key: string) => outcome.get(key)?.outcome !== 'rejected';
  return {
    imageId: record.scanId,
    findings: record.findings
      .filter((f) => kept(`f:${f.id}`))
      .map((f) => ({ labels: sortLocalLabels(f.labels), box: { ...f.box } })),
    globals: sortGlobalLabels(record.globals.filter((g) => kept(`g:${g.label}`)).map((g) => g.label)),
  };
}

/** {@link consensusContent} plus what the exports need from the stored record. */
export function consensusImage(record: ConsensusRecord, sha256: string): ConsensusImage {
  return {
    ...consensusContent(record),
    rows: record.image.rows,
    columns: record.image.columns,
    version: record.version,
    sha256,
  };
}
