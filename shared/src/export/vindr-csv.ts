import { GLOBAL_LABELS, LOCAL_LABELS, NO_FINDING, TEST_CSV_GLOBAL_SPELLING } from '../model/labels.js';
import { writeCsv } from './csv-text.js';
import { formatCoordinate } from './number-format.js';
import type { ImageReading, ReaderReading } from './readings.js';

/**
 * VinDr-CXR's released CSV layouts (shared/DOMAIN.md). The train files carry `rad_id`, one
 * reading per reader; the test files are the consensus and carry no `rad_id` at all (VinDr-CXR
 * 1.0.0's `annotations_test.csv` header is `image_id,class_name,x_min,y_min,x_max,y_max`).
 */
export const ANNOTATIONS_TRAIN_COLUMNS = [
  'image_id',
  'rad_id',
  'class_name',
  'x_min',
  'y_min',
  'x_max',
  'y_max',
] as const;
export const ANNOTATIONS_TEST_COLUMNS = [
  'image_id',
  'class_name',
  'x_min',
  'y_min',
  'x_max',
  'y_max',
] as const;

/** Label columns of `image_labels_train.csv`: 22 local, then 6 global with `No finding` last. */
export const TRAIN_LABEL_COLUMNS: readonly string[] = [...LOCAL_LABELS, ...GLOBAL_LABELS];
/** The same columns as `image_labels_test.csv` spells them (`Other disease`). */
export const TEST_LABEL_COLUMNS: readonly string[] = [
  ...LOCAL_LABELS,
  ...GLOBAL_LABELS.map((g) => TEST_CSV_GLOBAL_SPELLING[g]),
];
export const IMAGE_LABELS_TRAIN_COLUMNS: readonly string[] = ['image_id', 'rad_id', ...TRAIN_LABEL_COLUMNS];
export const IMAGE_LABELS_TEST_COLUMNS: readonly string[] = ['image_id', ...TEST_LABEL_COLUMNS];

/** Class name and coordinates: one row per (box, label); a `No finding` row when no box. */
function boxRows(reading: ImageReading): string[][] {
  if (reading.findings.length === 0) return [[NO_FINDING, '', '', '', '']];
  return reading.findings.flatMap((f) =>
    f.labels.map((label) => [
      label,
      formatCoordinate(f.box.x_min),
      formatCoordinate(f.box.y_min),
      formatCoordinate(f.box.x_max),
      formatCoordinate(f.box.y_max),
    ]),
  );
}

/** The 28 label flags of one reading, in column order. */
function labelFlags(reading: ImageReading): string[] {
  const present = new Set<string>([...reading.findings.flatMap((f) => f.labels), ...reading.globals]);
  return [...LOCAL_LABELS, ...GLOBAL_LABELS].map((label) => (present.has(label) ? '1' : '0'));
}

/** R-EXPORT-2: consensus `annotations_test.csv`. */
export function consensusAnnotationsCsv(images: readonly ImageReading[]): string {
  return writeCsv([
    ANNOTATIONS_TEST_COLUMNS,
    ...images.flatMap((img) => boxRows(img).map((row) => [img.imageId, ...row])),
  ]);
}

/** R-EXPORT-2: consensus `image_labels_test.csv`, one row per image. */
export function consensusImageLabelsCsv(images: readonly ImageReading[]): string {
  return writeCsv([IMAGE_LABELS_TEST_COLUMNS, ...images.map((img) => [img.imageId, ...labelFlags(img)])]);
}

/** R-EXPORT-3: per-reader `annotations_train.csv`. */
export function readerAnnotationsCsv(readings: readonly ReaderReading[]): string {
  return writeCsv([
    ANNOTATIONS_TRAIN_COLUMNS,
    ...readings.flatMap((r) => boxRows(r).map((row) => [r.imageId, r.radId, ...row])),
  ]);
}

/** R-EXPORT-3: per-reader `image_labels_train.csv`, one row per (image, reader). */
export function readerImageLabelsCsv(readings: readonly ReaderReading[]): string {
  return writeCsv([
    IMAGE_LABELS_TRAIN_COLUMNS,
    ...readings.map((r) => [r.imageId, r.radId, ...labelFlags(r)]),
  ]);
}
