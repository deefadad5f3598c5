import { describe, expect, it } from 'vitest';
import { readersVsConsensus } from './agreement.js';
import type { ImageReading, ReaderReading } from './readings.js';

const box = (x: number) => ({ x_min: x, y_min: 100, x_max: x + 100, y_max: 200 });
const consensus: ImageReading[] = [
  {
    imageId: 'a',
    findings: [
      { labels: ['Nodule/Mass'], box: box(100) },
      { labels: ['Cardiomegaly'], box: box(500) },
    ],
    globals: ['Lung tumor'],
  },
  { imageId: 'b', findings: [], globals: ['No finding'] },
];

describe('readers against the locked consensus', () => {
  it('R-EXPORT-11: micro box F1 at IoU >= 0.4 per label and per-label global agreement', () => {
    const readings: ReaderReading[] = [
      {
        imageId: 'a',
        radId: 'R1',
        // Same nodule shifted by 20 px (IoU 80/120 = 0.667), a wrong label on the heart, one extra box.
        findings: [
          { labels: ['Nodule/Mass'], box: box(120) },
          { labels: ['Aortic enlargement'], box: box(500) },
          { labels: ['ILD'], box: box(900) },
        ],
        globals: ['Lung tumor'],
      },
      { imageId: 'b', radId: 'R1', findings: [], globals: ['No finding'] },
      { imageId: 'a', radId: 'R2', findings: [], globals: ['No finding'] },
      { imageId: 'zzz', radId: 'R3', findings: [], globals: ['COPD'] },
    ];
    const [r1, r2, ...rest] = readersVsConsensus(readings, consensus);
    expect(rest).toEqual([]);
    expect(r1).toMatchObject({
      radId: 'R1',
      images: 2,
      boxes: { matched: 1, readerOnly: 2, consensusOnly: 1 },
    });
    expect(r1!.boxes.f1).toBeCloseTo(2 / 5, 12);
    expect(r1!.globals['Lung tumor']).toEqual({ agree: 2, of: 2 });
    expect(r1!.globals['No finding']).toEqual({ agree: 2, of: 2 });
    expect(r2).toMatchObject({
      radId: 'R2',
      images: 1,
      boxes: { matched: 0, readerOnly: 0, consensusOnly: 2, f1: 0 },
    });
    expect(r2!.globals['No finding']).toEqual({ agree: 0, of: 1 });
    expect(r2!.globals.COPD).toEqual({ agree: 1, of: 1 });
  });

  it('R-EXPORT-11: both drawing nothing gives F1 null, not 0 or 1', () => {
    const [r] = readersVsConsensus(
      [{ imageId: 'b', radId: 'R1', findings: [], globals: ['No finding'] }],
      consensus,
    );
    expect(r!.boxes.f1).toBeNull();
  });
});
