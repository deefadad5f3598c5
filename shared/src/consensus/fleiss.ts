/**
 * Fleiss' kappa (Fleiss 1971) for a subjects x categories matrix of rating counts:
 * `counts[i][j]` = how many raters put subject i in category j.
 *
 * Every subject normally has the same number of raters n. A panel can lose a reader on some
 * scans, so rows may have different totals; we then use the usual generalisation where each
 * subject's agreement is taken over its own raters, P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)),
 * and category proportions over all ratings, p_j = sum_i n_ij / sum_i n_i. With equal row totals
 * this is exactly Fleiss' formula. Subjects with fewer than 2 ratings carry no pairwise
 * information and are skipped.
 *
 * Returns `null` when kappa is undefined: no subject with 2+ ratings, or expected agreement
 * P_e = 1 (every rating in one category, so "agreement beyond chance" is 0/0). We return
 * `null` rather than NaN so the type makes callers (the moderator dashboard) handle it, e.g.
 * by showing "all readers agree" instead of a number.
 *
 * Throws `RangeError` on a ragged matrix or a count that is not a non-negative integer.
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number | null {
  const k = counts[0]?.length ?? 0;
  const categoryTotals = new Array<number>(k).fill(0);
  let agreementSum = 0;
  let subjects = 0;
  let ratings = 0;
  for (const [i, row] of counts.entries()) {
    if (row.length !== k) throw new RangeError(`row ${i} has ${row.length} categories, expected ${k}`);
    let n = 0;
    let pairs = 0;
    for (const c of row) {
      if (!Number.isInteger(c) || c < 0) throw new RangeError(`row ${i} has an invalid count ${c}`);
      n += c;
      pairs += c * (c - 1);
    }
    if (n < 2) continue;
    row.forEach((c, j) => {
      categoryTotals[j]! += c;
    });
    agreementSum += pairs / (n * (n - 1));
    subjects += 1;
    ratings += n;
  }
  if (subjects === 0) return null;
  const observed = agreementSum / subjects;
  const expected = categoryTotals.reduce((s, t) => s + (t / ratings) ** 2, 0);
  // Compare with a tolerance: sum of squared proportions can land a rounding error below 1
  // when all ratings are in one category.
  if (1 - expected < 1e-12) return null;
  return (observed - expected) / (1 - expected);
}
