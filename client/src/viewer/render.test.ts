import { describe, expect, it } from 'vitest';
import { buildPyramid, placeholderImage, toIndexed } from './dicom.js';
import type { PixelModule } from './pipeline.js';
import { buildDisplayLut } from './pipeline.js';
import { chooseLevel, renderInto } from './render.js';
import { axisIndexTable } from './transform.js';

const module: PixelModule = {
  rows: 2,
  columns: 3,
  bitsAllocated: 16,
  bitsStored: 12,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
};

describe('renderer', () => {
  it('masks, indexes and paints known pixels through the LUT, with background outside', () => {
    // 0xF000 junk above bit 12 must be masked away.
    const samples = Uint16Array.from([0xf000 | 0, 100, 200, 300, 400, 4095]);
    const indexed = toIndexed(samples, module, 'test');
    expect(indexed.storedMin).toBe(0);
    expect(indexed.storedMax).toBe(4095);
    const levels = buildPyramid(indexed.data, 3, 2);
    const lut = buildDisplayLut(module, 0, 4095, { kind: 'window', center: 2048, width: 4096 }, false);
    const vp = {
      view: { scale: 1, panX: 0, panY: 0, flipH: true, flipV: false },
      image: { width: 3, height: 2 },
      screen: { width: 5, height: 2 },
    };
    const level = chooseLevel(levels, 1);
    const out = new Uint32Array(10);
    renderInto(out, 5, 2, level, lut, axisIndexTable(vp, 'x', 5, 3, 1), axisIndexTable(vp, 'y', 2, 2, 1), 7);
    const g = (i: number) => ((out[i] ?? 0) === 7 ? -1 : (out[i] ?? 0) & 0xff);
    // flipped horizontally: the first row reads 200, 100, 0 between background columns
    expect([g(0), g(1), g(2), g(3), g(4)]).toEqual([-1, 12, 6, 0, -1]);
    expect(g(6)).toBe(255);
  });

  it('builds a pyramid of 2x2 averages and picks the coarsest level not coarser than a screen pixel', () => {
    const data = new Uint16Array(2048 * 1024).fill(10);
    const levels = buildPyramid(data, 2048, 1024);
    expect(levels.map((l) => l.step)).toEqual([1, 2, 4]);
    expect(levels[2]?.data[0]).toBe(10);
    expect(chooseLevel(levels, 3.2).step).toBe(2);
    expect(chooseLevel(levels, 0.5).step).toBe(1);
    expect(chooseLevel(levels, 100).step).toBe(4);
    expect(chooseLevel(placeholderImage(2800, 3000).levels, 0.5).step).toBe(16);
  });
});
