import { describe, expect, it } from 'vitest';
import { f1Of, median, quantile, ratio } from './stats.js';

describe('analytics statistics (R-ANALYTICS-6)', () => {
  it('median and p90 interpolate linearly like pandas', () => {
    expect(median([40, 10])).toBe(25);
    expect(median([3, 1, 2])).toBe(2);
    // pandas.Series([10, 20, 30, 40, 50]).quantile(0.9) == 46.0
    expect(quantile([50, 10, 30, 20, 40], 0.9)).toBeCloseTo(46, 10);
    expect(quantile([7], 0.9)).toBe(7);
    expect(median([])).toBeNull();
  });

  it('ratios of nothing are undefined (null), F1 of zero precision and recall is 0', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(f1Of(null, 0.5)).toBeNull();
    expect(f1Of(0, 0)).toBe(0);
    expect(f1Of(1, 0.5)).toBeCloseTo(2 / 3, 12);
  });
});
