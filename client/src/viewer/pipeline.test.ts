import { describe, expect, it } from 'vitest';
import { type PixelModule, buildPackedLut, dragWindow, presets } from './pipeline.js';

/**
 * Known pixels through the whole display chain as the viewer packs it (the chain itself is
 * `@cxr/shared` imaging, tested there; these pin what the canvas receives).
 */
const base: PixelModule = {
  rows: 2,
  columns: 2,
  bitsAllocated: 16,
  bitsStored: 12,
  highBit: 11,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [{ center: 2048, width: 4096 }],
  voiLutFunction: 'LINEAR',
};
const win = (center: number, width: number) => ({
  kind: 'window' as const,
  center,
  width,
  fn: 'LINEAR' as const,
});

function grey(module: PixelModule, stored: number, voi = win(2048, 4096), invert = false): number {
  const lut = buildPackedLut(module, voi, invert);
  const packed = lut.table[stored - lut.offset] ?? 0;
  expect(packed >>> 24).toBe(0xff);
  expect((packed >>> 8) & 0xff).toBe(packed & 0xff);
  return packed & 0xff;
}

describe('display pipeline as packed for the canvas', () => {
  it('applies rescale before the window (pydicom CR sample: slope 0.684, intercept 200)', () => {
    const m: PixelModule = { ...base, rescaleSlope: 0.684, rescaleIntercept: 200 };
    // stored 1000 -> 884 in modality units, the middle of this window
    expect(grey(m, 1000, win(884.5, 201))).toBe(128);
  });

  it('inverts MONOCHROME1 after the VOI, and the user invert flips it back', () => {
    const m1: PixelModule = { ...base, photometric: 'MONOCHROME1' };
    expect(grey(m1, 0)).toBe(255);
    expect(grey(m1, 4095)).toBe(0);
    expect(grey(m1, 0, win(2048, 4096), true)).toBe(0);
    expect(grey(base, 0)).toBe(0);
    // A narrow window on MONOCHROME1: values above the window are black, not white.
    expect(grey(m1, 3000, win(1000, 200))).toBe(0);
  });

  it('uses the VOI LUT sequence when chosen', () => {
    const lut = { firstMapped: 10, bitsPerEntry: 8, data: Uint16Array.from([0, 51, 255]) };
    const m: PixelModule = { ...base, voiLut: lut };
    const table = buildPackedLut(m, { kind: 'lut', lut }, false).table;
    expect((table[5] ?? 0) & 0xff).toBe(0);
    expect((table[11] ?? 0) & 0xff).toBe(51);
    expect((table[4000] ?? 0) & 0xff).toBe(255);
  });

  it('indexes signed data from the most negative stored value', () => {
    const signed: PixelModule = { ...base, pixelRepresentation: 1 };
    const lut = buildPackedLut(signed, win(0, 4096), false);
    expect(lut.offset).toBe(-2048);
    expect(lut.table.length).toBe(4096);
    expect((lut.table[0] ?? 0) & 0xff).toBe(0);
  });

  it('offers file, lung, mediastinum, bone and auto, mirrored for MONOCHROME1', () => {
    const counts = new Uint32Array(4096).fill(1);
    const histogram = { offset: 0, counts, total: 4096 };
    const m2 = presets({ ...base, windows: [] }, histogram);
    const m1 = presets({ ...base, windows: [], photometric: 'MONOCHROME1' }, histogram);
    expect(m2.map((p) => p.id)).toEqual(['default', 'lung', 'mediastinum', 'bone', 'auto']);
    const lung2 = m2[1]?.voi;
    const lung1 = m1[1]?.voi;
    if (lung2?.kind !== 'window' || lung1?.kind !== 'window') throw new Error('expected windows');
    expect(lung2.center).toBeLessThan(2048);
    expect(lung1.center).toBeGreaterThan(2048);
    expect(m2[0]?.label).toBe('Auto');
    expect(presets(base, histogram)[0]?.voi).toEqual(win(2048, 4096));
  });

  it('drags width with x and centre with y, scaled to the value range', () => {
    const next = dragWindow(win(1000, 500), 60, -30, 6000, { center: 0, width: 1 });
    expect(next).toEqual(win(700, 1100));
    expect(dragWindow(win(1000, 10), -600, 0, 6000, { center: 0, width: 1 })).toMatchObject({ width: 1 });
  });
});
