import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boxArea, iou } from './iou.js';
import { boxArb } from './test-arbitraries.js';

const box = (x_min: number, y_min: number, x_max: number, y_max: number) => ({ x_min, y_min, x_max, y_max });

describe('iou', () => {
  it.each([
    ['identical', box(0, 0, 10, 10), box(0, 0, 10, 10), 1],
    ['disjoint', box(0, 0, 10, 10), box(20, 20, 30, 30), 0],
    ['touching edges do not overlap', box(0, 0, 10, 10), box(10, 0, 20, 10), 0],
    ['half shifted', box(0, 0, 10, 10), box(5, 0, 15, 10), 50 / 150],
    ['contained', box(0, 0, 10, 10), box(0, 0, 5, 10), 0.5],
    ['zero-area boxes', box(5, 5, 5, 5), box(5, 5, 5, 5), 0],
  ])('%s', (_name, a, b, expected) => {
    expect(iou(a, b)).toBeCloseTo(expected, 12);
  });

  it('uses continuous coordinates (area of [0,0,10,10] is 100)', () => {
    expect(boxArea(box(0, 0, 10, 10))).toBe(100);
  });

  it('is symmetric and within [0, 1]', () => {
    fc.assert(
      fc.property(boxArb, boxArb, (a, b) => {
        const v = iou(a, b);
        expect(v).toBe(iou(b, a));
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is 1 for a box with itself and invariant to translation and uniform scaling', () => {
    fc.assert(
      fc.property(
        boxArb,
        boxArb,
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: 1, max: 4 }),
        (a, b, t, s) => {
          expect(iou(a, a)).toBe(1);
          const move = (x: typeof a) =>
            box(x.x_min * s + t, x.y_min * s + t, x.x_max * s + t, x.y_max * s + t);
          expect(iou(move(a), move(b))).toBeCloseTo(iou(a, b), 12);
        },
      ),
    );
  });
});
