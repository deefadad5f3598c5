import { describe, expect, it } from 'vitest';
import {
  type PixelModule,
  applyWindow,
  buildDisplayLut,
  displayGrey,
  presets,
  storedValue,
} from './pipeline.js';

const base: PixelModule = {
  rows: 2,
  columns: 2,
  bitsAllocated: 16,
  bitsStored: 12,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [{ center: 2048, width: 4096 }],
};

const grey = (packed: number | undefined) => (packed ?? 0) & 0xff;

describe('display pipeline', () => {
  it('masks junk above Bits Stored and sign-extends signed data', () => {
    expect(storedValue(0xf123, 12, false)).toBe(0x123);
    expect(storedValue(0x0fff, 12, true)).toBe(-1);
    expect(storedValue(0x0800, 12, true)).toBe(-2048);
    expect(storedValue(0x07ff, 12, true)).toBe(2047);
  });

  it('follows the DICOM linear window function', () => {
    expect(applyWindow(0, 100, 50)).toBe(0);
    expect(applyWindow(200, 100, 50)).toBe(1);
    expect(applyWindow(99.5, 100, 50)).toBeCloseTo(0.5);
  });

  it('applies rescale before the window (pydicom CR sample: slope 0.684, intercept 200)', () => {
    const m: PixelModule = { ...base, rescaleSlope: 0.684, rescaleIntercept: 200 };
    // stored 1000 -> 884 modality; window 884 +- 100 maps it to mid grey
    expect(displayGrey(1000, m, { kind: 'window', center: 884.5, width: 201 }, false)).toBe(128);
  });

  it('inverts MONOCHROME1 after VOI, and the user invert flips it back', () => {
    const m1: PixelModule = { ...base, photometric: 'MONOCHROME1' };
    const voi = { kind: 'window', center: 2048, width: 4096 } as const;
    expect(displayGrey(0, m1, voi, false)).toBe(255);
    expect(displayGrey(4095, m1, voi, false)).toBe(0);
    expect(displayGrey(0, m1, voi, true)).toBe(0);
    expect(displayGrey(0, base, voi, false)).toBe(0);
  });

  it('uses the VOI LUT sequence when asked', () => {
    const m: PixelModule = {
      ...base,
      voiLut: { firstMapped: 10, bits: 8, data: Uint16Array.from([0, 51, 255]) },
    };
    expect(displayGrey(5, m, { kind: 'lut' }, false)).toBe(0);
    expect(displayGrey(11, m, { kind: 'lut' }, false)).toBe(51);
    expect(displayGrey(4000, m, { kind: 'lut' }, false)).toBe(255);
  });

  it('builds one packed table that agrees with the per-pixel chain', () => {
    const m: PixelModule = { ...base, photometric: 'MONOCHROME1', rescaleSlope: 2, rescaleIntercept: -100 };
    const voi = { kind: 'window', center: 1500, width: 800 } as const;
    const lut = buildDisplayLut(m, 100, 2000, voi, false);
    expect(lut.length).toBe(1901);
    for (const stored of [100, 500, 800, 801, 1000, 2000]) {
      expect(grey(lut[stored - 100])).toBe(displayGrey(stored, m, voi, false));
      expect((lut[stored - 100] ?? 0) >>> 24).toBe(0xff);
    }
  });

  it('offers lung/mediastinum/bone presets relative to the value range, mirrored for MONOCHROME1', () => {
    const histogram = new Uint32Array(4096).fill(1);
    const stats = { storedMin: 0, histogram, total: 4096 };
    const m2 = presets({ ...base, windows: [] }, stats);
    const m1 = presets({ ...base, windows: [], photometric: 'MONOCHROME1' }, stats);
    const lung2 = m2.find((p) => p.id === 'lung')?.voi;
    const lung1 = m1.find((p) => p.id === 'lung')?.voi;
    if (lung2?.kind !== 'window' || lung1?.kind !== 'window') throw new Error('expected windows');
    expect(lung2.center).toBeLessThan(2048);
    expect(lung1.center).toBeGreaterThan(2048);
    expect(m2[0]?.label).toBe('Auto');
    expect(presets(base, stats)[0]?.voi).toEqual({ kind: 'window', center: 2048, width: 4096 });
  });
});
