import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fleissKappa } from './fleiss.js';

describe('fleissKappa', () => {
  it('reproduces the reference value (10 subjects x 5 categories, 14 raters): 0.209931', () => {
    const rows = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    expect(Math.abs(fleissKappa(rows)! - 0.209931)).toBeLessThan(1e-6);
  });

  it('is 1 for perfect agreement spread over categories', () => {
    expect(
      fleissKappa([
        [3, 0],
        [0, 3],
        [3, 0],
      ]),
    ).toBeCloseTo(1, 12);
  });

  it('is negative for systematic disagreement', () => {
    expect(
      fleissKappa([
        [1, 1],
        [1, 1],
      ]),
    ).toBeCloseTo(-1, 12);
  });

  it('is null (undefined) when every rating is in one category', () => {
    expect(
      fleissKappa([
        [0, 3],
        [0, 3],
      ]),
    ).toBeNull();
  });

  it('is null with no subject rated by two or more raters', () => {
    expect(fleissKappa([])).toBeNull();
    expect(fleissKappa([[1, 0]])).toBeNull();
  });

  it('skips subjects with fewer than 2 ratings and handles unequal rater counts', () => {
    const equal = [
      [2, 1],
      [0, 3],
      [3, 0],
    ];
    expect(fleissKappa([...equal, [1, 0], [0, 0]])).toBe(fleissKappa(equal));
    // Unequal counts: P_i over each subject's own raters, p_j over all ratings.
    const mixed = [
      [2, 0],
      [1, 2],
    ];
    const pBar = (1 + 2 / 6) / 2;
    const pe = (3 / 5) ** 2 + (2 / 5) ** 2;
    expect(fleissKappa(mixed)).toBeCloseTo((pBar - pe) / (1 - pe), 12);
  });

  it('throws on ragged or invalid counts', () => {
    expect(() => fleissKappa([[1, 2], [3]])).toThrow(RangeError);
    expect(() => fleissKappa([[1, -1]])).toThrow(RangeError);
    expect(() => fleissKappa([[1.5, 1]])).toThrow(RangeError);
  });

  it('is at most 1 and invariant to the order of subjects and of categories', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (rows) => {
          const k = fleissKappa(rows);
          if (k === null) return;
          expect(k).toBeLessThanOrEqual(1 + 1e-12);
          expect(fleissKappa([...rows].reverse())).toBeCloseTo(k, 12);
          expect(fleissKappa(rows.map((r) => [...r].reverse()))).toBeCloseTo(k, 12);
        },
      ),
    );
  });
});
