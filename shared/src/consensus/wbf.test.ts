import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Box } from '../model/schemas.js';
import { iou } from './iou.js';
import { boxArb, jitteredBoxArb, labelArb } from './test-arbitraries.js';
import { type FusedProposal, type Reading, weightedBoxesFusion } from './wbf.js';

const b = (x_min: number, y_min: number, x_max: number, y_max: number): Box => ({
  x_min,
  y_min,
  x_max,
  y_max,
});
const coords = (box: Box) => [box.x_min, box.y_min, box.x_max, box.y_max];

function expectBox(actual: Box, expected: number[]) {
  coords(actual).forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i]!, 6);
  });
}

describe('weightedBoxesFusion: reference vector (issue 6)', () => {
  // Equal weights, score 1 per box, IoU threshold 0.4, 1000 x 1000 image.
  const readings: Reading[] = [
    {
      readerId: 'reader1',
      boxes: [
        { label: 'Nodule/Mass', box: b(100, 100, 300, 300) },
        { label: 'Cardiomegaly', box: b(500, 500, 800, 900) },
      ],
    },
    {
      readerId: 'reader2',
      boxes: [
        { label: 'Nodule/Mass', box: b(120, 110, 310, 290) },
        { label: 'Cardiomegaly', box: b(520, 480, 790, 880) },
      ],
    },
    {
      readerId: 'reader3',
      boxes: [
        { label: 'Nodule/Mass', box: b(110, 90, 280, 320) },
        { label: 'Nodule/Mass', box: b(700, 100, 900, 200) },
      ],
    },
  ];

  it('reproduces the expected proposals to 1e-6', () => {
    const out = weightedBoxesFusion(readings, { iouThreshold: 0.4 });
    expect(out).toHaveLength(3);
    const [nodule, cardio, lone] = out;

    expect(nodule!.label).toBe('Nodule/Mass');
    expectBox(nodule!.box, [110, 100, 296.666667, 303.333333]);
    expect(nodule!.share).toBeCloseTo(1.0, 6);
    expect(nodule!.sources.map((s) => s.readerId)).toEqual(['reader1', 'reader2', 'reader3']);

    expect(cardio!.label).toBe('Cardiomegaly');
    expectBox(cardio!.box, [510, 490, 795, 890]);
    expect(cardio!.share).toBeCloseTo(0.666667, 6);
    expect(cardio!.sources.map((s) => s.readerId)).toEqual(['reader1', 'reader2']);

    expect(lone!.label).toBe('Nodule/Mass');
    expectBox(lone!.box, [700, 100, 900, 200]);
    expect(lone!.share).toBeCloseTo(0.333333, 6);
    expect(lone!.sources).toEqual([{ readerId: 'reader3', box: b(700, 100, 900, 200), score: 1 }]);
  });

  it('gives confidence = share with equal weights and score 1', () => {
    for (const p of weightedBoxesFusion(readings)) expect(p.confidence).toBeCloseTo(p.share, 12);
  });

  it('does not depend on the order of readers', () => {
    expect(weightedBoxesFusion([...readings].reverse())).toEqual(weightedBoxesFusion(readings));
  });
});

describe('weightedBoxesFusion: cases', () => {
  it('identical boxes from every reader fuse into that box with share 1', () => {
    const box = b(10, 20, 110, 220);
    const out = weightedBoxesFusion(
      ['a', 'b', 'c'].map((readerId) => ({ readerId, boxes: [{ label: 'Cardiomegaly' as const, box }] })),
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.box).toEqual(box);
    expect(out[0]!.share).toBe(1);
  });

  it('disjoint boxes stay apart, one proposal each', () => {
    const out = weightedBoxesFusion([
      { readerId: 'a', boxes: [{ label: 'Nodule/Mass', box: b(0, 0, 100, 100) }] },
      { readerId: 'b', boxes: [{ label: 'Nodule/Mass', box: b(500, 500, 600, 600) }] },
    ]);
    expect(out.map((p) => p.share)).toEqual([0.5, 0.5]);
    expect(out.map((p) => p.sources.length)).toEqual([1, 1]);
  });

  it('one reader drawing two overlapping boxes never counts twice in a cluster', () => {
    const out = weightedBoxesFusion([
      {
        readerId: 'a',
        boxes: [
          { label: 'Nodule/Mass', box: b(100, 100, 200, 200) },
          { label: 'Nodule/Mass', box: b(105, 105, 205, 205) },
        ],
      },
      { readerId: 'b', boxes: [{ label: 'Nodule/Mass', box: b(102, 102, 202, 202) }] },
    ]);
    expect(out).toHaveLength(2);
    for (const p of out) {
      expect(new Set(p.sources.map((s) => s.readerId)).size).toBe(p.sources.length);
      expect(p.share).toBeLessThanOrEqual(1);
    }
    // Ties on score are broken by reader id, then coordinates: a's first box seeds the cluster,
    // b joins it, and a's second box starts its own.
    expect(out[0]!.sources.map((s) => s.readerId)).toEqual(['a', 'b']);
    expect(out[0]!.share).toBe(1);
    expect(out[1]!.sources).toEqual([{ readerId: 'a', box: b(105, 105, 205, 205), score: 1 }]);
    expect(out[1]!.share).toBe(0.5);
  });

  it('never fuses different labels on the same region (a label conflict is two proposals)', () => {
    const box = b(100, 100, 300, 300);
    const out = weightedBoxesFusion([
      { readerId: 'a', boxes: [{ label: 'Nodule/Mass', box }] },
      { readerId: 'b', boxes: [{ label: 'Nodule/Mass', box }] },
      { readerId: 'c', boxes: [{ label: 'Calcification', box }] },
    ]);
    expect(out.map((p) => [p.label, p.share])).toEqual([
      ['Nodule/Mass', 2 / 3],
      ['Calcification', 1 / 3],
    ]);
  });

  it('joins only at IoU strictly above the threshold', () => {
    // IoU of these two is exactly 0.5.
    const readings = [
      { readerId: 'a', boxes: [{ label: 'Edema' as const, box: b(0, 0, 30, 10) }] },
      { readerId: 'b', boxes: [{ label: 'Edema' as const, box: b(10, 0, 40, 10) }] },
    ];
    expect(iou(readings[0]!.boxes[0]!.box, readings[1]!.boxes[0]!.box)).toBe(0.5);
    expect(weightedBoxesFusion(readings, { iouThreshold: 0.5 })).toHaveLength(2);
    expect(weightedBoxesFusion(readings, { iouThreshold: 0.49 })).toHaveLength(1);
  });

  it('compares later boxes with the current fused box, not the seed', () => {
    // c overlaps the a+b fused box above 0.4 but a alone only below it.
    const a = b(0, 0, 100, 100);
    const bb = b(40, 0, 140, 100);
    const c = b(55, 0, 155, 100);
    expect(iou(a, c)).toBeLessThan(0.4);
    expect(iou(b(20, 0, 120, 100), c)).toBeGreaterThan(0.4);
    const out = weightedBoxesFusion([
      { readerId: 'a', boxes: [{ label: 'ILD', box: a }] },
      { readerId: 'b', boxes: [{ label: 'ILD', box: bb }] },
      { readerId: 'c', boxes: [{ label: 'ILD', box: c }] },
    ]);
    expect(out).toHaveLength(1);
    expectBox(out[0]!.box, [95 / 3, 0, 395 / 3, 100]);
  });

  it('weights coordinates by score and reader weight', () => {
    const out = weightedBoxesFusion(
      [
        { readerId: 'senior', boxes: [{ label: 'Edema', box: b(0, 0, 100, 100) }] },
        { readerId: 'junior', boxes: [{ label: 'Edema', box: b(10, 10, 110, 110), score: 0.5 }] },
      ],
      { weights: { senior: 3, junior: 1 } },
    );
    // Normalised weights 1.5 and 0.5; weighted scores 1.5 and 0.25.
    expectBox(out[0]!.box, [
      10 * (0.25 / 1.75),
      10 * (0.25 / 1.75),
      100 + 10 * (0.25 / 1.75),
      110 - 10 * (1.5 / 1.75),
    ]);
    expect(out[0]!.share).toBe(1);
    expect(out[0]!.confidence).toBeCloseTo((1.5 + 0.25) / 2, 12);
  });

  it('counts a missing reader in the share when nReaders is raised', () => {
    const out = weightedBoxesFusion(
      [
        { readerId: 'a', boxes: [{ label: 'ILD', box: b(0, 0, 10, 10) }] },
        { readerId: 'b', boxes: [] },
      ],
      { nReaders: 4 },
    );
    expect(out[0]!.share).toBe(0.25);
    expect(out[0]!.confidence).toBe(0.25);
  });

  it('returns nothing for no readings or readers who drew nothing', () => {
    expect(weightedBoxesFusion([])).toEqual([]);
    expect(weightedBoxesFusion([{ readerId: 'a', boxes: [] }])).toEqual([]);
  });

  it.each([
    [
      'duplicate reader',
      [
        { readerId: 'a', boxes: [] },
        { readerId: 'a', boxes: [] },
      ],
      {},
    ],
    ['score 0', [{ readerId: 'a', boxes: [{ label: 'ILD', box: b(0, 0, 1, 1), score: 0 }] }], {}],
    ['score > 1', [{ readerId: 'a', boxes: [{ label: 'ILD', box: b(0, 0, 1, 1), score: 2 }] }], {}],
    ['non-finite box', [{ readerId: 'a', boxes: [{ label: 'ILD', box: b(0, 0, Number.NaN, 1) }] }], {}],
    ['threshold 1', [], { iouThreshold: 1 }],
    [
      'nReaders below readers given',
      [
        { readerId: 'a', boxes: [] },
        { readerId: 'b', boxes: [] },
      ],
      { nReaders: 1 },
    ],
    ['weight missing for a reader', [{ readerId: 'a', boxes: [] }], { weights: { b: 1 } }],
    ['weight 0', [{ readerId: 'a', boxes: [] }], { weights: { a: 0 } }],
  ] as const)('throws RangeError on %s', (_name, readings, options) => {
    expect(() => weightedBoxesFusion(readings as readonly Reading<string>[], options)).toThrow(RangeError);
  });
});

describe('weightedBoxesFusion: properties', () => {
  /** 1-5 readers with distinct ids, each drawing 0-4 boxes near shared findings or anywhere. */
  const readingsArb = fc
    .uniqueArray(fc.constantFrom('R1', 'R2', 'R3', 'R4', 'R5'), { minLength: 1, maxLength: 5 })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((readerId) =>
          fc.record({
            readerId: fc.constant(readerId),
            boxes: fc.array(
              fc.record(
                {
                  label: labelArb,
                  box: fc.oneof(jitteredBoxArb, boxArb),
                  score: fc.constantFrom(1, 0.9, 0.5, 0.25),
                },
                { requiredKeys: ['label', 'box'] },
              ),
              { maxLength: 4 },
            ),
          }),
        ),
      ),
    );

  const hullContains = (p: FusedProposal<string>) => {
    const src = p.sources.map((s) => s.box);
    const lo = (f: (x: Box) => number) => Math.min(...src.map(f));
    const hi = (f: (x: Box) => number) => Math.max(...src.map(f));
    return (
      p.box.x_min >= lo((x) => x.x_min) &&
      p.box.y_min >= lo((x) => x.y_min) &&
      p.box.x_max <= hi((x) => x.x_max) &&
      p.box.y_max <= hi((x) => x.y_max)
    );
  };

  it('is invariant to the order of readers and of boxes within a reading', () => {
    fc.assert(
      fc.property(
        readingsArb.chain((rs) =>
          fc.tuple(
            fc.constant(rs),
            fc
              .shuffledSubarray(rs, { minLength: rs.length })
              .chain((shuffled) =>
                fc.tuple(
                  ...shuffled.map((r) =>
                    fc
                      .shuffledSubarray(r.boxes, { minLength: r.boxes.length })
                      .map((boxes) => ({ readerId: r.readerId, boxes })),
                  ),
                ),
              ),
          ),
        ),
        fc.constantFrom(0.3, 0.4, 0.5),
        ([original, permuted], iouThreshold) => {
          expect(weightedBoxesFusion(permuted, { iouThreshold })).toEqual(
            weightedBoxesFusion(original, { iouThreshold }),
          );
        },
      ),
    );
  });

  it('keeps every box exactly once, one per reader per cluster, share in (0, 1], box in its sources hull', () => {
    fc.assert(
      fc.property(readingsArb, fc.constantFrom(0.3, 0.4, 0.5), (readings, iouThreshold) => {
        const out = weightedBoxesFusion(readings, { iouThreshold });
        const inputCount = readings.reduce((s, r) => s + r.boxes.length, 0);
        expect(out.reduce((s, p) => s + p.sources.length, 0)).toBe(inputCount);
        for (const p of out) {
          const readers = p.sources.map((s) => s.readerId);
          expect(new Set(readers).size).toBe(readers.length);
          expect(p.share).toBeGreaterThan(0);
          expect(p.share).toBeLessThanOrEqual(1);
          expect(p.share).toBe(readers.length / readings.length);
          expect(p.confidence).toBeGreaterThan(0);
          expect(p.confidence).toBeLessThanOrEqual(p.share + 1e-12);
          expect(hullContains(p)).toBe(true);
          expect(p.sources.every((s) => readings.some((r) => r.readerId === s.readerId))).toBe(true);
        }
      }),
    );
  });

  it('fuses n copies of one box into that box exactly', () => {
    fc.assert(
      fc.property(boxArb, fc.integer({ min: 1, max: 5 }), (box, n) => {
        const out = weightedBoxesFusion(
          Array.from({ length: n }, (_, i) => ({ readerId: `R${i}`, boxes: [{ label: 'ILD', box }] })),
        );
        expect(out).toHaveLength(1);
        expect(out[0]!.box).toEqual(box);
        expect(out[0]!.share).toBe(1);
      }),
    );
  });
});
