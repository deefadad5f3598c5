import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { krippendorffAlpha } from './krippendorff.js';

/** Parses Krippendorff's notation: values separated by spaces, `.` = missing. */
const coder = (row: string) => row.split(' ').map((v) => (v === '.' ? null : Number(v)));

describe('krippendorffAlpha', () => {
  // 3 coders x 15 units, `.` = missing (issue 6).
  const data = [
    coder('. . . . . 3 4 1 2 1 1 3 3 . 3'),
    coder('1 . 2 1 3 3 4 3 . . . . . . .'),
    coder('. . 2 1 3 4 4 . 2 1 1 3 3 . 4'),
  ];

  it('reproduces the reference nominal alpha 0.691358', () => {
    expect(Math.abs(krippendorffAlpha(data, 'nominal')! - 0.691358)).toBeLessThan(1e-6);
  });

  it('reproduces the reference interval alpha 0.810845', () => {
    expect(Math.abs(krippendorffAlpha(data, 'interval')! - 0.810845)).toBeLessThan(1e-6);
  });

  it('defaults to nominal and accepts string categories', () => {
    const asStrings = data.map((row) => row.map((v) => (v === null ? null : `c${v}`)));
    expect(krippendorffAlpha(asStrings)).toBeCloseTo(krippendorffAlpha(data, 'nominal')!, 12);
  });

  it('is 1 for perfect agreement with variation', () => {
    expect(
      krippendorffAlpha([
        [0, 1, 1, 0],
        [0, 1, 1, 0],
      ]),
    ).toBe(1);
  });

  it('is null when there is no variation or nothing pairable', () => {
    expect(
      krippendorffAlpha([
        [1, 1, 1],
        [1, 1, null],
      ]),
    ).toBeNull();
    expect(
      krippendorffAlpha([
        [1, null],
        [null, 0],
      ]),
    ).toBeNull();
    expect(krippendorffAlpha([])).toBeNull();
  });

  it('throws on ragged rows or non-numeric interval data', () => {
    expect(() => krippendorffAlpha([[1, 2], [1]])).toThrow(RangeError);
    expect(() => krippendorffAlpha([[1, Number.NaN]], 'interval')).toThrow(RangeError);
  });

  it('is at most 1 and invariant to the order of coders and units', () => {
    const value = fc.option(fc.integer({ min: 0, max: 3 }), { nil: null, freq: 4 });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((units) =>
            fc.array(fc.array(value, { minLength: units, maxLength: units }), { minLength: 2, maxLength: 5 }),
          ),
        fc.constantFrom('nominal' as const, 'interval' as const),
        (rows, metric) => {
          const run = (d: (number | null)[][]) =>
            metric === 'interval' ? krippendorffAlpha(d, 'interval') : krippendorffAlpha(d, 'nominal');
          const a = run(rows);
          if (a === null) {
            expect(run([...rows].reverse())).toBeNull();
            return;
          }
          expect(a).toBeLessThanOrEqual(1 + 1e-12);
          expect(run([...rows].reverse())).toBeCloseTo(a, 10);
          expect(run(rows.map((r) => [...r].reverse()))).toBeCloseTo(a, 10);
        },
      ),
    );
  });
});
