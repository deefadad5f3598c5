import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hungarian } from './hungarian.js';

/** Brute force over every assignment of min(rows, cols) pairs: the oracle for small matrices. */
function bruteForceMin(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  const usedCols = new Set<number>();
  const pairs = Math.min(rows, cols);
  let best = Number.POSITIVE_INFINITY;
  const visit = (row: number, assigned: number, sum: number) => {
    if (assigned === pairs) {
      best = Math.min(best, sum);
      return;
    }
    if (rows - row < pairs - assigned) return;
    // Either leave this row unassigned (only possible when rows > cols) or give it a free column.
    if (rows > cols) visit(row + 1, assigned, sum);
    for (let j = 0; j < cols; j++) {
      if (usedCols.has(j)) continue;
      usedCols.add(j);
      visit(row + 1, assigned + 1, sum + cost[row]![j]!);
      usedCols.delete(j);
    }
  };
  visit(0, 0, 0);
  return pairs === 0 ? 0 : best;
}

describe('hungarian', () => {
  it('solves a classic square case', () => {
    const r = hungarian([
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ]);
    expect(r.totalCost).toBe(5);
    expect(r.rowToCol).toEqual([1, 0, 2]);
    expect(r.colToRow).toEqual([1, 0, 2]);
  });

  it('handles more columns than rows and more rows than columns', () => {
    const wide = hungarian([[5, 1, 9]]);
    expect(wide.rowToCol).toEqual([1]);
    expect(wide.colToRow).toEqual([-1, 0, -1]);
    const tall = hungarian([[5], [1], [9]]);
    expect(tall.rowToCol).toEqual([-1, 0, -1]);
    expect(tall.colToRow).toEqual([1]);
    expect(tall.totalCost).toBe(1);
  });

  it('handles empty matrices', () => {
    expect(hungarian([])).toEqual({ rowToCol: [], colToRow: [], totalCost: 0 });
    expect(hungarian([[], []])).toEqual({ rowToCol: [-1, -1], colToRow: [], totalCost: 0 });
  });

  it('throws on ragged or non-finite input', () => {
    expect(() => hungarian([[1, 2], [3]])).toThrow(RangeError);
    expect(() => hungarian([[Number.POSITIVE_INFINITY]])).toThrow(RangeError);
  });

  it('matches brute force on random rectangular matrices and returns a consistent matching', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).chain(([r, c]) =>
          fc.array(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: c, maxLength: c }), {
            minLength: r,
            maxLength: r,
          }),
        ),
        (cost) => {
          const result = hungarian(cost);
          expect(result.totalCost).toBe(bruteForceMin(cost));
          const assigned = result.rowToCol.filter((j) => j >= 0);
          expect(assigned).toHaveLength(Math.min(cost.length, cost[0]!.length));
          expect(new Set(assigned).size).toBe(assigned.length);
          result.rowToCol.forEach((j, i) => {
            if (j >= 0) expect(result.colToRow[j]).toBe(i);
          });
        },
      ),
    );
  });
});
