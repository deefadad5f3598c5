import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Box } from '../model/schemas.js';
import { boxAgreement, type LabelledBox, panelBoxF1, pairwiseF1 } from './box-f1.js';
import { boxArb, jitteredBoxArb, labelArb } from './test-arbitraries.js';

const b = (x_min: number, y_min: number, x_max: number, y_max: number): Box => ({
  x_min,
  y_min,
  x_max,
  y_max,
});
const nodule = (box: Box): LabelledBox => ({ label: 'Nodule/Mass', box });

describe('pairwise box F1', () => {
  it('is 1 for identical readings and 0 for disjoint ones', () => {
    const a = [nodule(b(0, 0, 10, 10)), { label: 'Cardiomegaly' as const, box: b(50, 50, 90, 90) }];
    expect(pairwiseF1(a, a)).toBe(1);
    expect(pairwiseF1(a, [nodule(b(200, 200, 300, 300))])).toBe(0);
  });

  it('matches only within a label', () => {
    const box = b(0, 0, 10, 10);
    expect(pairwiseF1([nodule(box)], [{ label: 'Calcification', box }])).toBe(0);
  });

  it('matches at IoU >= 0.4 inclusive', () => {
    // IoU exactly 0.4: intersection 40, union 100.
    const a = [nodule(b(0, 0, 70, 1))];
    const c = [nodule(b(30, 0, 100, 1))];
    expect(boxAgreement(a, c).matches[0]?.iou).toBeCloseTo(0.4, 12);
    expect(pairwiseF1(a, c)).toBe(1);
    expect(pairwiseF1(a, c, { iouThreshold: 0.41 })).toBe(0);
  });

  it('prefers two good matches over one excellent one (cardinality first, then IoU)', () => {
    // a0 overlaps both b0 (nearly equal) and b1 (enough); a1 overlaps only b0 (enough).
    const a = [nodule(b(0, 0, 100, 100)), nodule(b(40, 0, 140, 100))];
    const c = [nodule(b(2, 0, 102, 100)), nodule(b(-35, 0, 65, 100))];
    const r = boxAgreement(a, c);
    expect(r.truePositives).toBe(2);
    expect(r.matches.map((m) => [m.a, m.b])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(r.f1).toBe(1);
  });

  it('counts each box at most once', () => {
    const r = boxAgreement([nodule(b(0, 0, 10, 10))], [nodule(b(0, 0, 10, 10)), nodule(b(1, 1, 10, 10))]);
    expect(r).toMatchObject({ truePositives: 1, onlyA: 0, onlyB: 1, f1: 2 / 3 });
  });

  it('is null when neither reader drew a box, 0 when only one did', () => {
    expect(pairwiseF1([], [])).toBeNull();
    expect(pairwiseF1([nodule(b(0, 0, 1, 1))], [])).toBe(0);
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => pairwiseF1([], [], { iouThreshold: 0 })).toThrow(RangeError);
  });

  it('is symmetric and within [0, 1]', () => {
    const readingArb = fc.array(fc.record({ label: labelArb, box: fc.oneof(jitteredBoxArb, boxArb) }), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(readingArb, readingArb, (a, c) => {
        const ab = boxAgreement(a, c);
        const ba = boxAgreement(c, a);
        expect(ab.f1).toBe(ba.f1);
        expect(ab.truePositives).toBe(ba.truePositives);
        if (ab.f1 !== null) {
          expect(ab.f1).toBeGreaterThanOrEqual(0);
          expect(ab.f1).toBeLessThanOrEqual(1);
        }
        expect(new Set(ab.matches.map((m) => m.a)).size).toBe(ab.matches.length);
        expect(new Set(ab.matches.map((m) => m.b)).size).toBe(ab.matches.length);
        for (const m of ab.matches) {
          expect(a[m.a]!.label).toBe(c[m.b]!.label);
          expect(m.iou).toBeGreaterThanOrEqual(0.4);
        }
        if (a.length > 0) expect(pairwiseF1(a, a)).toBe(1);
      }),
    );
  });
});

describe('panelBoxF1', () => {
  it('scores every reader pair in id order and averages the defined ones', () => {
    const box = b(0, 0, 10, 10);
    const r = panelBoxF1([
      { readerId: 'c', boxes: [] },
      { readerId: 'a', boxes: [nodule(box)] },
      { readerId: 'b', boxes: [nodule(box)] },
    ]);
    expect(r.pairs).toEqual([
      { readerA: 'a', readerB: 'b', f1: 1 },
      { readerA: 'a', readerB: 'c', f1: 0 },
      { readerA: 'b', readerB: 'c', f1: 0 },
    ]);
    expect(r.meanF1).toBeCloseTo(1 / 3, 12);
    expect(panelBoxF1([{ readerId: 'a', boxes: [] }]).meanF1).toBeNull();
  });
});
