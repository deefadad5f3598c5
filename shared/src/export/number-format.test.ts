import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCoordinate, parseCoordinate } from './number-format.js';

describe('coordinate formatting', () => {
  it('R-EXPORT-2: shortest exact decimal, no padding, no exponent', () => {
    expect(formatCoordinate(512)).toBe('512');
    expect(formatCoordinate(100.25)).toBe('100.25');
    expect(formatCoordinate(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatCoordinate(-0)).toBe('0');
    expect(formatCoordinate(1.5e-7)).toBe('0.00000015');
    expect(formatCoordinate(-2.5e-9)).toBe('-0.0000000025');
    expect(formatCoordinate(1e21)).toBe('1000000000000000000000');
    expect(formatCoordinate(1.25e22)).toBe('12500000000000000000000');
    expect(() => formatCoordinate(Number.NaN)).toThrow(RangeError);
  });

  it('R-EXPORT-2: every finite double reads back exactly (seeded)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = formatCoordinate(x);
        expect(text).not.toMatch(/e/i);
        expect(parseCoordinate(text)).toBe(x === 0 ? 0 : x);
      }),
      { seed: 99, numRuns: 2000 },
    );
  });

  it('R-EXPORT-5: reads VinDr-style numbers, refuses the rest', () => {
    expect(parseCoordinate('691.0')).toBe(691);
    expect(parseCoordinate(' 12 ')).toBe(12);
    expect(parseCoordinate('.5')).toBe(0.5);
    for (const bad of ['', 'NaN', 'Infinity', '1,5', '0x10', '1px', '--1', '1e999']) {
      expect(parseCoordinate(bad)).toBeUndefined();
    }
  });
});
