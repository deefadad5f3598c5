/** A minimum-cost assignment of rows to columns. */
export interface Assignment {
  /** Column assigned to each row, or -1 when there are more rows than columns. */
  readonly rowToCol: readonly number[];
  /** Row assigned to each column, or -1 when there are more columns than rows. */
  readonly colToRow: readonly number[];
  /** Sum of the costs of the assigned pairs. */
  readonly totalCost: number;
}

/**
 * Hungarian algorithm (Kuhn-Munkres, shortest-augmenting-path form with potentials, O(n^2 m))
 * for a rectangular cost matrix: assigns min(rows, cols) pairs, each row and column at most once,
 * minimising the total cost.
 *
 * Rectangular input is common here (reader A drew 3 nodules, reader B drew 5), so rather than
 * padding with dummy rows we transpose when rows > cols; the algorithm needs rows <= cols.
 * Costs must be finite: a forbidden pair is the caller's business (give it a high cost and
 * discard it afterwards), because an infinite cost would poison the potentials.
 *
 * Throws `RangeError` on a ragged matrix or a non-finite cost.
 */
export function hungarian(cost: readonly (readonly number[])[]): Assignment {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  for (const [i, row] of cost.entries()) {
    if (row.length !== cols) throw new RangeError(`row ${i} has ${row.length} columns, expected ${cols}`);
    if (!row.every(Number.isFinite)) throw new RangeError(`row ${i} has a cost that is not finite`);
  }
  if (rows === 0 || cols === 0) {
    return { rowToCol: new Array(rows).fill(-1), colToRow: new Array(cols).fill(-1), totalCost: 0 };
  }
  if (rows > cols) {
    const transposed = Array.from({ length: cols }, (_, j) => cost.map((row) => row[j]!));
    const t = solve(transposed);
    return { rowToCol: t.colToRow, colToRow: t.rowToCol, totalCost: t.totalCost };
  }
  return solve(cost);
}

/** Core for rows <= cols. Arrays are 1-based with index 0 as the virtual "unassigned" slot. */
function solve(a: readonly (readonly number[])[]): Assignment {
  const n = a.length;
  const m = a[0]!.length;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  // p[j]: row (1-based) matched to column j; way[j]: previous column on the augmenting path.
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    // Flip the augmenting path back to its start.
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }

  const rowToCol = new Array<number>(n).fill(-1);
  const colToRow = new Array<number>(m).fill(-1);
  let totalCost = 0;
  for (let j = 1; j <= m; j++) {
    const i = p[j]!;
    if (i === 0) continue;
    rowToCol[i - 1] = j - 1;
    colToRow[j - 1] = i - 1;
    totalCost += a[i - 1]![j - 1]!;
  }
  return { rowToCol, colToRow, totalCost };
}
