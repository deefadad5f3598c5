import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDisplayLut,
  buildDisplayLut,
  decodeRleFrame,
  defaultVoi,
  encodeRleFrame,
  histogramQuantile,
  j2kFrameSize,
  jpegFrameSize,
  lutFromDescriptor,
  modalityValue,
  presetWindow,
  samplesToStoredValues,
  shouldInvert,
  storedHistogram,
  unpackStoredValues,
  voiFraction,
  windowFraction,
} from '../../src/dicom/imaging.js';
import type { DisplayParams, PixelFormat } from '../../src/dicom/imaging.js';

/** Unit tests of the pure pipeline in shared/src/imaging, with hand-computed pixels. */
const fmt = (o: Partial<PixelFormat> = {}): PixelFormat => ({
  rows: 1,
  columns: 1,
  bitsAllocated: 16,
  bitsStored: 12,
  highBit: 11,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  ...o,
});

describe('stored values', () => {
  it('masks junk above Bits Stored (little endian)', () => {
    const v = unpackStoredValues(new Uint8Array([0x34, 0xf2]), fmt(), { littleEndian: true });
    expect(Array.from(v)).toEqual([0x234]);
  });
  it('reads big endian', () => {
    const v = unpackStoredValues(new Uint8Array([0xf2, 0x34]), fmt(), { littleEndian: false });
    expect(Array.from(v)).toEqual([0x234]);
  });
  it('sign-extends 12-bit two’s complement', () => {
    const bytes = new Uint8Array([0xff, 0x0f, 0x00, 0x08, 0xff, 0x07, 0x00, 0x00]);
    const v = unpackStoredValues(bytes, fmt({ columns: 4, pixelRepresentation: 1 }), { littleEndian: true });
    expect(v).toBeInstanceOf(Int16Array);
    expect(Array.from(v)).toEqual([-1, -2048, 2047, 0]);
  });
  it('shifts when High Bit is above Bits Stored - 1', () => {
    const v = unpackStoredValues(new Uint8Array([0xc0, 0xab]), fmt({ highBit: 15 }), { littleEndian: true });
    expect(Array.from(v)).toEqual([0xabc]);
  });
  it('reads 8-bit samples', () => {
    const v = unpackStoredValues(
      new Uint8Array([0, 127, 255]),
      fmt({ columns: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7 }),
      {
        littleEndian: true,
      },
    );
    expect(Array.from(v)).toEqual([0, 127, 255]);
  });
  it('codec samples: unsigned bit patterns and signed numbers give the same stored values', () => {
    const f = fmt({ columns: 2, pixelRepresentation: 1 });
    expect(Array.from(samplesToStoredValues(new Uint16Array([0xfff, 0x800]), f))).toEqual([-1, -2048]);
    expect(Array.from(samplesToStoredValues(new Int16Array([-1, -2048]), f))).toEqual([-1, -2048]);
  });
});

describe('modality LUT and VOI (PS3.3 C.11)', () => {
  const rescale = { rescaleSlope: 2, rescaleIntercept: -1024 };
  it('rescale', () => {
    expect(modalityValue(100, rescale)).toBe(-824);
  });
  it('a Modality LUT Sequence replaces the rescale and clamps', () => {
    const lut = lutFromDescriptor([3, 10, 16], new Uint16Array([5, 6, 7]), false)!;
    const p = { ...rescale, modalityLut: lut };
    expect([9, 10, 11, 12, 13].map((x) => modalityValue(x, p))).toEqual([5, 5, 6, 7, 7]);
  });
  it('LUT descriptor: 0 entries means 65536; first mapped is signed for signed data', () => {
    const lut = lutFromDescriptor([0, 65535, 16], new Uint16Array(65536), true)!;
    expect(lut.data.length).toBe(65536);
    expect(lut.firstMapped).toBe(-1);
  });
  it('LINEAR window uses the standard’s -0.5 and w-1', () => {
    expect(windowFraction(0, 2048, 4096, 'LINEAR')).toBe(0);
    expect(windowFraction(4095, 2048, 4096, 'LINEAR')).toBe(1);
    expect(windowFraction(40, 40, 400, 'LINEAR')).toBeCloseTo(0.5 + 0.5 / 399, 12);
    expect(windowFraction(-161, 40, 400, 'LINEAR')).toBe(0);
    expect(windowFraction(240, 40, 400, 'LINEAR')).toBe(1);
  });
  it('LINEAR_EXACT and SIGMOID', () => {
    expect([0, 100, 200].map((x) => windowFraction(x, 100, 200, 'LINEAR_EXACT'))).toEqual([0, 0.5, 1]);
    expect(windowFraction(100, 100, 200, 'SIGMOID')).toBe(0.5);
    expect(windowFraction(1e6, 100, 200, 'SIGMOID')).toBeCloseTo(1, 9);
  });
  it('VOI LUT Sequence: clamped lookup scaled by its bit depth', () => {
    const lut = lutFromDescriptor([3, 10, 8], new Uint16Array([0, 51, 255]), false)!;
    const voi = { kind: 'lut' as const, lut };
    expect([5, 10, 11, 12, 100].map((x) => voiFraction(x, voi))).toEqual([0, 0, 0.2, 1, 1]);
  });
  it('defaultVoi prefers the VOI LUT, then the first window, then auto', () => {
    const h = storedHistogram(new Uint16Array([0, 100, 200, 4000]), fmt());
    const base: DisplayParams = {
      rescaleSlope: 1,
      rescaleIntercept: 0,
      windows: [],
      voiLutFunction: 'LINEAR',
    };
    const lut = lutFromDescriptor([2, 0, 8], new Uint16Array([0, 255]), false)!;
    expect(defaultVoi({ ...base, voiLut: lut, windows: [{ center: 1, width: 2 }] }, h).kind).toBe('lut');
    expect(defaultVoi({ ...base, windows: [{ center: 1, width: 2 }] }, h)).toMatchObject({
      center: 1,
      width: 2,
    });
    expect(defaultVoi(base, h)).toMatchObject({ kind: 'window', center: 2000, width: 4000 });
  });
});

describe('display LUT and MONOCHROME1', () => {
  const params = { rescaleSlope: 1, rescaleIntercept: 0 };
  const voi = { kind: 'window' as const, center: 2048, width: 4096, fn: 'LINEAR' as const };
  it('MONOCHROME2: low stored is dark; MONOCHROME1: low stored is bright (inverted after VOI)', () => {
    const data = new Uint16Array([0, 2048, 4095]);
    const m2 = applyDisplayLut(
      data,
      buildDisplayLut(fmt(), params, { voi, invert: shouldInvert('MONOCHROME2') }),
    );
    const m1 = applyDisplayLut(
      data,
      buildDisplayLut(fmt(), params, { voi, invert: shouldInvert('MONOCHROME1') }),
    );
    expect(Array.from(m2)).toEqual([0, 128, 255]);
    expect(Array.from(m1)).toEqual([255, 127, 0]);
    expect(shouldInvert('MONOCHROME1', true)).toBe(false);
  });
  it('inversion happens after the window, not before (narrow window on MONOCHROME1)', () => {
    // Window 1000..1100: stored 900 is below it -> VOI 0 -> inverted -> white.
    const narrow = { kind: 'window' as const, center: 1050, width: 100, fn: 'LINEAR' as const };
    const lut = buildDisplayLut(fmt(), params, { voi: narrow, invert: true });
    expect(Array.from(applyDisplayLut(new Uint16Array([900, 1200]), lut))).toEqual([255, 0]);
  });
  it('signed data through rescale and window', () => {
    const f = fmt({ pixelRepresentation: 1 });
    const lut = buildDisplayLut(
      f,
      { rescaleSlope: 1, rescaleIntercept: 1024 },
      {
        voi: { kind: 'window', center: 1024, width: 2048, fn: 'LINEAR_EXACT' },
        invert: false,
      },
    );
    expect(lut.offset).toBe(-2048);
    expect(Array.from(applyDisplayLut(new Int16Array([-2048, 0, 2047]), lut))).toEqual([0, 128, 255]);
  });
});

describe('relative chest presets', () => {
  const data = new Uint16Array(1000).map((_, i) => i * 4);
  const h = storedHistogram(data, fmt());
  const p = { rescaleSlope: 1, rescaleIntercept: 0 };
  it('quantiles', () => {
    expect(histogramQuantile(h, 0.5)).toBe(1996);
    expect(histogramQuantile(h, 1)).toBe(3996);
  });
  it('lung sits low on MONOCHROME2 and mirrored on MONOCHROME1', () => {
    const m2 = presetWindow('lung', h, 'MONOCHROME2', p);
    const m1 = presetWindow('lung', h, 'MONOCHROME1', p);
    expect(m2.center).toBeLessThan(2000);
    expect(m1.center).toBeGreaterThan(2000);
    expect(m1.width).toBeCloseTo(m2.width, 6);
    expect(m1.center + m2.center).toBeCloseTo(histogramQuantile(h, 0.005) + histogramQuantile(h, 0.995), 6);
  });
});

describe('RLE (PS3.5 Annex G)', () => {
  it('decodes a hand-made PackBits segment', () => {
    const frame = new Uint8Array(64 + 6);
    new DataView(frame.buffer).setUint32(0, 1, true);
    new DataView(frame.buffer).setUint32(4, 64, true);
    frame.set([0x02, 1, 2, 3, 0xfe, 7], 64);
    const r = decodeRleFrame(frame, { rows: 1, columns: 6, bitsAllocated: 8 });
    expect(r.ok && Array.from(r.value)).toEqual([1, 2, 3, 7, 7, 7]);
  });
  it('round-trips any 16-bit image (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer(),
        (rows, columns, seed) => {
          const native = new Uint8Array(rows * columns * 2);
          let s = seed | 1;
          for (let i = 0; i < native.length; i++) {
            s = (s * 1103515245 + 12345) | 0;
            native[i] = (s >>> 16) % 3 === 0 ? 0 : (s >>> 8) & 0xff; // runs and literals
          }
          const f = { rows, columns, bitsAllocated: 16 };
          const r = decodeRleFrame(encodeRleFrame(native, f), f);
          return r.ok && r.value.every((b, i) => b === native[i]);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });
  it('refuses hostile headers without writing out of bounds', () => {
    const f = { rows: 4, columns: 4, bitsAllocated: 16 };
    const good = encodeRleFrame(new Uint8Array(32), f);
    const bad = (patch: (v: DataView) => void) => {
      const b = good.slice();
      patch(new DataView(b.buffer));
      const r = decodeRleFrame(b, f);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(bad((v) => v.setUint32(0, 15, true))).toBe('rle_segments');
    expect(bad((v) => v.setUint32(8, 0xffffff, true))).toBe('rle_offsets');
    expect(decodeRleFrame(good.subarray(0, 70), f).ok).toBe(false);
    expect(decodeRleFrame(new Uint8Array(10), f).ok).toBe(false);
  });
});

describe('codestream sizes (checked before any codec allocates)', () => {
  it('JPEG SOF3 and JPEG-LS SOF55', () => {
    const sof = (m: number) =>
      new Uint8Array([0xff, 0xd8, 0xff, m, 0, 11, 12, 0x0b, 0xb8, 0x0a, 0xf0, 1, 1, 0x11, 0]);
    expect(jpegFrameSize(sof(0xc3))).toEqual({ precision: 12, rows: 3000, columns: 2800, components: 1 });
    expect(jpegFrameSize(sof(0xf7))?.rows).toBe(3000);
    expect(jpegFrameSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
  it('J2K SIZ', () => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    v.setUint16(0, 0xff4f);
    v.setUint16(2, 0xff51);
    v.setUint32(8, 2800); // Xsiz
    v.setUint32(12, 3000); // Ysiz
    v.setUint16(40, 1); // Csiz
    b[42] = 11; // Ssiz: 12-bit unsigned
    expect(j2kFrameSize(b)).toEqual({ columns: 2800, rows: 3000, precision: 12, components: 1 });
  });
});
