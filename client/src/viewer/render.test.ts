import { describe, expect, it } from 'vitest';
import { buildPyramid, placeholderImage, toIndexed } from './dicom.js';
import { type PixelModule, buildPackedLut } from './pipeline.js';
import { chooseLevel, renderInto } from './render.js';
import { axisIndexTable } from './transform.js';

const module: PixelModule = {
  rows: 2,
  columns: 3,
  bitsAllocated: 16,
  bitsStored: 12,
  highBit: 11,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
  voiLutFunction: 'LINEAR',
};

describe('renderer', () => {
  it('indexes stored values, counts them and paints known pixels through the LUT', () => {
    const stored = Uint16Array.from([0, 100, 200, 300, 400, 4095]);
    const indexed = toIndexed(stored, module, 'test');
    expect(indexed.dataMin).toBe(0);
    expect(indexed.dataMax).toBe(4095);
    expect(indexed.histogram.counts[100]).toBe(1);
    expect(indexed.histogram.total).toBe(6);
    const levels = buildPyramid(indexed.data, 3, 2);
    const lut = buildPackedLut(module, { kind: 'window', center: 2048, width: 4096, fn: 'LINEAR' }, false);
    const vp = {
      view: { scale: 1, panX: 0, panY: 0, flipH: true, flipV: false },
      image: { width: 3, height: 2 },
      screen: { width: 5, height: 2 },
    };
    const level = chooseLevel(levels, 1);
    const out = new Uint32Array(10);
    renderInto(
      out,
      5,
      2,
      level,
      lut.table,
      axisIndexTable(vp, 'x', 5, 3, 1),
      axisIndexTable(vp, 'y', 2, 2, 1),
      7,
    );
    const g = (i: number) => ((out[i] ?? 0) === 7 ? -1 : (out[i] ?? 0) & 0xff);
    // flipped horizontally: the first row reads 200, 100, 0 between background columns
    expect([g(0), g(1), g(2), g(3), g(4)]).toEqual([-1, 12, 6, 0, -1]);
    expect(g(6)).toBe(255);
  });

  it('rebases signed values so the index addresses the LUT', () => {
    const signed: PixelModule = { ...module, pixelRepresentation: 1 };
    const indexed = toIndexed(Int16Array.from([-2048, -1, 0, 2047, 5, 6]), signed, 'test');
    expect(Array.from(indexed.data.slice(0, 4))).toEqual([0, 2047, 2048, 4095]);
    expect(indexed.histogram.offset).toBe(-2048);
    expect(indexed.dataMin).toBe(-2048);
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
