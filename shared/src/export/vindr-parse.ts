import { type Result, err, ok } from '../protocol/errors.js';
import {
  GLOBAL_LABELS,
  type GlobalLabel,
  isGlobalLabel,
  isLocalLabel,
  LOCAL_LABELS,
  type LocalLabel,
  NO_FINDING,
} from '../model/labels.js';
import { type Box, IdSchema } from '../model/schemas.js';
import { type CsvProblem, type CsvRecord, readCsv } from './csv-text.js';
import { parseCoordinate } from './number-format.js';
import { ANNOTATIONS_TEST_COLUMNS, ANNOTATIONS_TRAIN_COLUMNS, TRAIN_LABEL_COLUMNS } from './vindr-csv.js';

/** `train`: per reader, with `rad_id`; `test`: the consensus, without. */
export type VindrLayout = 'train' | 'test';

export interface AnnotationRow {
  readonly line: number;
  readonly imageId: string;
  /** `undefined` in the test layout. */
  readonly radId: string | undefined;
  readonly className: LocalLabel | 'No finding';
  /** Absent exactly on `No finding` rows. */
  readonly box: Box | undefined;
}

export interface ImageLabelsRow {
  readonly line: number;
  readonly imageId: string;
  readonly radId: string | undefined;
  readonly locals: LocalLabel[];
  readonly globals: GlobalLabel[];
}

export interface Parsed<Row> {
  readonly layout: VindrLayout;
  readonly rows: Row[];
}

/** Parsing stops collecting after this many problems; one more line says that it did. */
export const MAX_PROBLEMS = 100;

class Problems {
  readonly list: CsvProblem[] = [];
  add(line: number, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ line, message });
    else if (this.list.length === MAX_PROBLEMS)
      this.list.push({ line, message: `more than ${MAX_PROBLEMS} problems; stopped listing` });
  }
}

/** `rad_ID` (seen in some copies) is read as `rad_id`; both global spellings are accepted. */
function normaliseHeader(name: string): string {
  const trimmed = name.trim();
  if (trimmed.toLowerCase() === 'rad_id') return 'rad_id';
  if (trimmed === 'Other disease') return 'Other diseases';
  return trimmed;
}

/** The header decides the layout; anything else is named with what was expected. */
function readHeader(
  records: CsvRecord[],
  layouts: Record<VindrLayout, readonly string[]>,
  problems: Problems,
  what: string,
): VindrLayout | undefined {
  const header = records[0];
  if (!header) {
    problems.add(1, `empty file: expected the ${what} header line`);
    return undefined;
  }
  const names = header.fields.map(normaliseHeader);
  const layout: VindrLayout = names[1] === 'rad_id' ? 'train' : 'test';
  const expected = layouts[layout];
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    const at = expected.findIndex((e, i) => names[i] !== e);
    const detail =
      at >= 0
        ? `column ${at + 1} is ${JSON.stringify(header.fields[at] ?? '(missing)')}, expected ${JSON.stringify(expected[at])}`
        : `${names.length - expected.length} extra column(s) after ${JSON.stringify(expected.at(-1))}`;
    problems.add(header.line, `not a VinDr-CXR ${what} header (${layout} layout): ${detail}`);
    return undefined;
  }
  return layout;
}

function checkId(value: string, column: string, line: number, problems: Problems): boolean {
  const parsed = IdSchema.safeParse(value);
  if (parsed.success) return true;
  problems.add(
    line,
    `${column} ${JSON.stringify(value)} is not valid: ${value === '' ? 'it is empty' : parsed.error.issues[0]!.message}`,
  );
  return false;
}

/** Names the right spelling when only the case is wrong (`Lung opacity` for `Lung Opacity`). */
function unknownLabel(value: string): string {
  const all: readonly string[] = [...LOCAL_LABELS, ...GLOBAL_LABELS];
  const near = all.find((l) => l.toLowerCase() === value.trim().toLowerCase());
  return `unknown class_name ${JSON.stringify(value)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`;
}

/**
 * Parses `annotations_train.csv` or `annotations_test.csv` (the header decides). Every problem
 * is reported with its line: wrong header, wrong field count, empty or malformed ids, unknown
 * or global class names, coordinates missing, not numbers or not min < max, and coordinates on
 * a `No finding` row.
 */
export function parseAnnotationsCsv(text: string): Result<Parsed<AnnotationRow>, CsvProblem[]> {
  const problems = new Problems();
  const csv = readCsv(text);
  for (const p of csv.problems) problems.add(p.line, p.message);
  const layout = readHeader(
    csv.records,
    { train: ANNOTATIONS_TRAIN_COLUMNS, test: ANNOTATIONS_TEST_COLUMNS },
    problems,
    'annotations',
  );
  if (!layout) return err(problems.list);
  const width = layout === 'train' ? ANNOTATIONS_TRAIN_COLUMNS.length : ANNOTATIONS_TEST_COLUMNS.length;
  const rows: AnnotationRow[] = [];
  for (const { line, fields } of csv.records.slice(1)) {
    if (fields.length !== width) {
      problems.add(line, `expected ${width} fields, found ${fields.length}`);
      continue;
    }
    const [imageId, radId] = layout === 'train' ? [fields[0]!, fields[1]!] : [fields[0]!, undefined];
    const [className, ...coords] = fields.slice(layout === 'train' ? 2 : 1);
    let good = checkId(imageId, 'image_id', line, problems);
    if (radId !== undefined) good = checkId(radId, 'rad_id', line, problems) && good;
    const label = className!.trim();
    if (label === NO_FINDING) {
      if (coords.some((c) => c.trim() !== '')) {
        problems.add(line, '`No finding` rows have empty coordinates');
        continue;
      }
      if (good) rows.push({ line, imageId, radId, className: 'No finding', box: undefined });
      continue;
    }
    if (!isLocalLabel(label)) {
      problems.add(
        line,
        isGlobalLabel(label)
          ? `${JSON.stringify(label)} is a global label; it belongs in image_labels, not annotations`
          : unknownLabel(className!),
      );
      continue;
    }
    const box = readBox(coords, line, problems);
    if (box && good) rows.push({ line, imageId, radId, className: label, box });
  }
  return problems.list.length > 0 ? err(problems.list) : ok({ layout, rows });
}

const COORD_NAMES = ['x_min', 'y_min', 'x_max', 'y_max'] as const;

function readBox(coords: string[], line: number, problems: Problems): Box | undefined {
  const values: number[] = [];
  for (const [i, text] of coords.entries()) {
    const value = parseCoordinate(text);
    if (value === undefined) {
      problems.add(
        line,
        text.trim() === ''
          ? `${COORD_NAMES[i]} is empty (only \`No finding\` rows have no box)`
          : `${COORD_NAMES[i]} ${JSON.stringify(text)} is not a number`,
      );
      return undefined;
    }
    values.push(value);
  }
  const [x_min, y_min, x_max, y_max] = values as [number, number, number, number];
  if (!(x_min < x_max) || !(y_min < y_max)) {
    problems.add(line, `empty box: needs x_min < x_max and y_min < y_max, got [${coords.join(', ')}]`);
    return undefined;
  }
  return { x_min, y_min, x_max, y_max };
}

/**
 * Parses `image_labels_train.csv` or `image_labels_test.csv` (the header decides). Flags must
 * be `0` or `1`; an image (or image and reader) may appear once.
 */
export function parseImageLabelsCsv(text: string): Result<Parsed<ImageLabelsRow>, CsvProblem[]> {
  const problems = new Problems();
  const csv = readCsv(text);
  for (const p of csv.problems) problems.add(p.line, p.message);
  const layout = readHeader(
    csv.records,
    { train: ['image_id', 'rad_id', ...TRAIN_LABEL_COLUMNS], test: ['image_id', ...TRAIN_LABEL_COLUMNS] },
    problems,
    'image labels',
  );
  if (!layout) return err(problems.list);
  const lead = layout === 'train' ? 2 : 1;
  const width = lead + TRAIN_LABEL_COLUMNS.length;
  const header = csv.records[0]!.fields;
  const seen = new Map<string, number>();
  const rows: ImageLabelsRow[] = [];
  for (const { line, fields } of csv.records.slice(1)) {
    if (fields.length !== width) {
      problems.add(line, `expected ${width} fields, found ${fields.length}`);
      continue;
    }
    const imageId = fields[0]!;
    const radId = layout === 'train' ? fields[1]! : undefined;
    let good = checkId(imageId, 'image_id', line, problems);
    if (radId !== undefined) good = checkId(radId, 'rad_id', line, problems) && good;
    const locals: LocalLabel[] = [];
    const globals: GlobalLabel[] = [];
    for (const [i, label] of TRAIN_LABEL_COLUMNS.entries()) {
      const flag = fields[lead + i]!.trim();
      if (flag !== '0' && flag !== '1') {
        problems.add(
          line,
          `column ${JSON.stringify(header[lead + i])} must be 0 or 1, found ${JSON.stringify(flag)}`,
        );
        good = false;
        continue;
      }
      if (flag === '1') {
        if (isLocalLabel(label)) locals.push(label);
        else if (isGlobalLabel(label)) globals.push(label);
      }
    }
    const key = `${imageId}\u0000${radId ?? ''}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(
        line,
        `${radId === undefined ? `image ${imageId}` : `image ${imageId}, reader ${radId}`} already has a row (line ${first})`,
      );
      continue;
    }
    seen.set(key, line);
    if (good) rows.push({ line, imageId, radId, locals, globals });
  }
  return problems.list.length > 0 ? err(problems.list) : ok({ layout, rows });
}
