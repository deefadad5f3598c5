import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GLOBAL_LABELS, LOCAL_LABELS } from '../model/labels.js';
import { readCsv } from './csv-text.js';
import type { ImageReading, ReaderReading } from './readings.js';
import {
  consensusAnnotationsCsv,
  consensusImageLabelsCsv,
  readerAnnotationsCsv,
  readerImageLabelsCsv,
} from './vindr-csv.js';
import { parseAnnotationsCsv, parseImageLabelsCsv } from './vindr-parse.js';
import { readingsFromVindrCsv } from './vindr-readings.js';

const LABEL_HEADER =
  'Aortic enlargement,Atelectasis,Calcification,Cardiomegaly,Clavicle fracture,Consolidation,Edema,' +
  'Emphysema,Enlarged PA,ILD,Infiltration,Lung Opacity,Lung cavity,Lung cyst,Mediastinal shift,' +
  'Nodule/Mass,Pleural effusion,Pleural thickening,Pneumothorax,Pulmonary fibrosis,Rib fracture,' +
  'Other lesion,COPD,Lung tumor,Pneumonia,Tuberculosis';

/** The golden example: one image with boxes (one finding has two labels), one `No finding`. */
const GOLDEN: ImageReading[] = [
  {
    imageId: '9a5094b2563a1ef3ff50dc5c7ff71345',
    findings: [
      {
        labels: ['Infiltration', 'Lung Opacity'],
        box: { x_min: 900.96, y_min: 587.81, x_max: 1205.36, y_max: 888.71 },
      },
      { labels: ['Cardiomegaly'], box: { x_min: 691, y_min: 1375, x_max: 1653, y_max: 1831 } },
    ],
    globals: ['Pneumonia'],
  },
  { imageId: '051132a778e61a86eb147c7c6f564dfe', findings: [], globals: ['No finding'] },
];

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe('VinDr-CXR CSV exports', () => {
  it('R-EXPORT-2: exact header lines of the test (consensus) files', () => {
    expect(consensusAnnotationsCsv([]).split('\n')[0]).toBe('image_id,class_name,x_min,y_min,x_max,y_max');
    expect(consensusImageLabelsCsv([]).split('\n')[0]).toBe(
      `image_id,${LABEL_HEADER},Other disease,No finding`,
    );
  });

  it('R-EXPORT-3: exact header lines of the train (per-reader) files', () => {
    expect(readerAnnotationsCsv([]).split('\n')[0]).toBe(
      'image_id,rad_id,class_name,x_min,y_min,x_max,y_max',
    );
    expect(readerImageLabelsCsv([]).split('\n')[0]).toBe(
      `image_id,rad_id,${LABEL_HEADER},Other diseases,No finding`,
    );
  });

  it('R-EXPORT-2: golden consensus annotations_test.csv (two-label finding gives two rows; No finding row)', () => {
    expect(consensusAnnotationsCsv(GOLDEN)).toBe(
      [
        'image_id,class_name,x_min,y_min,x_max,y_max',
        '9a5094b2563a1ef3ff50dc5c7ff71345,Infiltration,900.96,587.81,1205.36,888.71',
        '9a5094b2563a1ef3ff50dc5c7ff71345,Lung Opacity,900.96,587.81,1205.36,888.71',
        '9a5094b2563a1ef3ff50dc5c7ff71345,Cardiomegaly,691,1375,1653,1831',
        '051132a778e61a86eb147c7c6f564dfe,No finding,,,,',
        '',
      ].join('\n'),
    );
  });

  it('R-EXPORT-2: golden consensus image_labels_test.csv (22 local then 6 global, No finding last)', () => {
    const flags = (set: string[]) =>
      [...LOCAL_LABELS, ...GLOBAL_LABELS].map((l) => (set.includes(l) ? '1' : '0')).join(',');
    expect(consensusImageLabelsCsv(GOLDEN)).toBe(
      [
        `image_id,${LABEL_HEADER},Other disease,No finding`,
        `9a5094b2563a1ef3ff50dc5c7ff71345,${flags(['Infiltration', 'Lung Opacity', 'Cardiomegaly', 'Pneumonia'])}`,
        `051132a778e61a86eb147c7c6f564dfe,${flags(['No finding'])}`,
        '',
      ].join('\n'),
    );
    const row = readCsv(consensusImageLabelsCsv(GOLDEN)).records[1]!.fields;
    expect(row).toHaveLength(29);
    expect(row[12]).toBe('1'); // Lung Opacity is column 12 after image_id
  });

  it('R-EXPORT-2: golden round trip: export -> parse -> equal', () => {
    const annotations = unwrap(parseAnnotationsCsv(consensusAnnotationsCsv(GOLDEN)));
    const labels = unwrap(parseImageLabelsCsv(consensusImageLabelsCsv(GOLDEN)));
    expect(annotations.layout).toBe('test');
    expect(labels.layout).toBe('test');
    expect(unwrap(readingsFromVindrCsv(annotations, labels))).toEqual({ layout: 'test', readings: GOLDEN });
  });

  it('R-EXPORT-3: per-reader readings round trip in the train layout', () => {
    const readings: ReaderReading[] = [
      { ...GOLDEN[0]!, radId: 'R8' },
      { ...GOLDEN[0]!, radId: 'R10', findings: GOLDEN[0]!.findings.slice(1) },
      { ...GOLDEN[1]!, radId: 'R8' },
    ];
    const annotations = unwrap(parseAnnotationsCsv(readerAnnotationsCsv(readings)));
    const labels = unwrap(parseImageLabelsCsv(readerImageLabelsCsv(readings)));
    expect(annotations.rows.map((r) => r.radId)).toEqual(['R8', 'R8', 'R8', 'R10', 'R8']);
    expect(unwrap(readingsFromVindrCsv(annotations, labels))).toEqual({ layout: 'train', readings });
  });
});

/** Readings the CSV can represent: distinct boxes, labels in column order, global rules kept. */
const readingArb = (radId?: string) =>
  fc
    .record({
      imageId: fc.stringMatching(/^[0-9a-f]{32}$/),
      boxes: fc.uniqueArray(
        fc.record({
          x: fc.double({ min: 0, max: 3000, noNaN: true }),
          y: fc.double({ min: 0, max: 3000, noNaN: true }),
          w: fc.double({ min: 0.001, max: 500, noNaN: true }),
          h: fc.double({ min: 0.001, max: 500, noNaN: true }),
          labels: fc.uniqueArray(fc.constantFrom(...LOCAL_LABELS), { minLength: 1, maxLength: 3 }),
        }),
        { maxLength: 4, selector: (b) => `${b.x},${b.y}` },
      ),
      globals: fc.uniqueArray(fc.constantFrom(...GLOBAL_LABELS.slice(0, 5)), { maxLength: 2 }),
    })
    .map(({ imageId, boxes, globals }) => ({
      imageId,
      ...(radId ? { radId } : {}),
      findings: boxes
        .map((b) => ({
          labels: LOCAL_LABELS.filter((l) => b.labels.includes(l)),
          box: { x_min: b.x, y_min: b.y, x_max: b.x + b.w, y_max: b.y + b.h },
        }))
        .filter((f) => f.box.x_min < f.box.x_max && f.box.y_min < f.box.y_max),
      globals:
        boxes.length === 0 && globals.length === 0
          ? ['No finding' as const]
          : GLOBAL_LABELS.filter((g) => globals.includes(g)),
    }));

describe('VinDr-CXR CSV round trips (seeded property)', () => {
  it('R-EXPORT-2: any consensus with full-precision coordinates comes back equal', () => {
    fc.assert(
      fc.property(fc.uniqueArray(readingArb(), { maxLength: 5, selector: (r) => r.imageId }), (images) => {
        const a = unwrap(parseAnnotationsCsv(consensusAnnotationsCsv(images)));
        const l = unwrap(parseImageLabelsCsv(consensusImageLabelsCsv(images)));
        expect(unwrap(readingsFromVindrCsv(a, l)).readings).toEqual(images);
      }),
      { seed: 20260601, numRuns: 200 },
    );
  });

  it('R-EXPORT-3: any per-reader readings come back equal', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.constantFrom('R1', 'R2', 'R17'))
          .chain((ids) => fc.tuple(...[...new Set(ids)].map((id) => readingArb(id)))),
        (readings) => {
          const a = unwrap(parseAnnotationsCsv(readerAnnotationsCsv(readings as ReaderReading[])));
          const l = unwrap(parseImageLabelsCsv(readerImageLabelsCsv(readings as ReaderReading[])));
          expect(unwrap(readingsFromVindrCsv(a, l)).readings).toEqual(readings);
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });
});
