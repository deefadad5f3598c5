import { type Result, err, ok } from '../protocol/errors.js';
import type { LocalLabel } from '../model/labels.js';
import type { CsvProblem } from './csv-text.js';
import {
  type ExportFinding,
  type ImageReading,
  type ReaderReading,
  sortGlobalLabels,
  sortLocalLabels,
} from './readings.js';
import type { AnnotationRow, ImageLabelsRow, Parsed } from './vindr-parse.js';

export type VindrReadings =
  | { readonly layout: 'train'; readonly readings: ReaderReading[] }
  | { readonly layout: 'test'; readonly readings: ImageReading[] };

const keyOf = (row: { imageId: string; radId: string | undefined }) =>
  `${row.imageId}\u0000${row.radId ?? ''}`;
const boxKey = (row: AnnotationRow) =>
  row.box ? `${row.box.x_min},${row.box.y_min},${row.box.x_max},${row.box.y_max}` : '';

/**
 * Joins an annotations file and an image labels file of the same layout into readings, one per
 * row of the image labels file and in its order. Rows with the very same box become one finding
 * with several labels (the CSV cannot tell a two-label finding from two findings on one box).
 * Problems: layouts differ; a reading in one file and not the other; `No finding` next to
 * boxes; local label flags that disagree with the boxes.
 */
export function readingsFromVindrCsv(
  annotations: Parsed<AnnotationRow>,
  labels: Parsed<ImageLabelsRow>,
): Result<VindrReadings, CsvProblem[]> {
  if (annotations.layout !== labels.layout) {
    return err([
      {
        line: 1,
        file: 'image_labels',
        message: `layouts differ: annotations are ${annotations.layout}, image labels are ${labels.layout}`,
      },
    ]);
  }
  const problems: CsvProblem[] = [];
  const groups = new Map<string, AnnotationRow[]>();
  for (const row of annotations.rows) {
    const list = groups.get(keyOf(row));
    if (list) list.push(row);
    else groups.set(keyOf(row), [row]);
  }
  const readings: ReaderReading[] = [];
  for (const row of labels.rows) {
    const who =
      row.radId === undefined ? `image ${row.imageId}` : `image ${row.imageId}, reader ${row.radId}`;
    const boxes = groups.get(keyOf(row));
    groups.delete(keyOf(row));
    if (!boxes) {
      problems.push({ line: row.line, file: 'image_labels', message: `${who} has no rows in annotations` });
      continue;
    }
    const noFinding = boxes.find((b) => b.box === undefined);
    const drawn = boxes.filter((b) => b.box !== undefined);
    if (noFinding && drawn.length > 0) {
      problems.push({
        line: noFinding.line,
        file: 'annotations',
        message: `${who} has a \`No finding\` row and boxes (line ${drawn[0]!.line})`,
      });
      continue;
    }
    const findings = mergeSameBoxes(drawn);
    const boxLabels = sortLocalLabels(findings.flatMap((f) => f.labels));
    const flagged = sortLocalLabels(row.locals);
    if (boxLabels.join('|') !== flagged.join('|')) {
      problems.push({
        line: row.line,
        file: 'image_labels',
        message: `${who}: local label flags [${flagged.join(', ')}] disagree with the boxes [${boxLabels.join(', ')}]`,
      });
      continue;
    }
    readings.push({
      imageId: row.imageId,
      radId: row.radId ?? '',
      findings,
      globals: sortGlobalLabels(row.globals),
    });
  }
  for (const rows of groups.values()) {
    const first = rows[0]!;
    const who =
      first.radId === undefined ? `image ${first.imageId}` : `image ${first.imageId}, reader ${first.radId}`;
    problems.push({ line: first.line, file: 'annotations', message: `${who} has no row in image_labels` });
  }
  if (problems.length > 0) return err(problems);
  return ok(
    annotations.layout === 'train'
      ? { layout: 'train', readings }
      : { layout: 'test', readings: readings.map(({ radId: _, ...image }) => image) },
  );
}

function mergeSameBoxes(rows: AnnotationRow[]): ExportFinding[] {
  const byBox = new Map<string, { labels: LocalLabel[]; row: AnnotationRow }>();
  for (const row of rows) {
    if (row.className === 'No finding' || !row.box) continue;
    const entry = byBox.get(boxKey(row));
    if (entry) entry.labels.push(row.className);
    else byBox.set(boxKey(row), { labels: [row.className], row });
  }
  return [...byBox.values()].map(({ labels, row }) => ({ labels: sortLocalLabels(labels), box: row.box! }));
}
