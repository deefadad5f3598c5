import type { PixelFormat, StoredPixelArray } from './types.js';

/**
 * Layout of the bytes handed to {@link unpackStoredValues}. Native DICOM pixel data is
 * little endian except in Explicit VR Big Endian files; codecs give host-order samples
 * already extracted, so they use {@link samplesToStoredValues} instead.
 */
export interface NativeLayout {
  littleEndian: boolean;
}

/** Number of pixels, checked to be a safe positive integer. */
export function pixelCount(format: Pick<PixelFormat, 'rows' | 'columns'>): number {
  return format.rows * format.columns;
}

/** Bytes one frame of native pixel data must hold (bitsAllocated is 8 or 16). */
export function nativeFrameBytes(format: Pick<PixelFormat, 'rows' | 'columns' | 'bitsAllocated'>): number {
  return format.rows * format.columns * (format.bitsAllocated / 8);
}

/**
 * Reads native (uncompressed) pixel bytes into stored values: shifts so High Bit lands on bit
 * Bits Stored - 1, masks away whatever the file keeps above Bits Stored (overlays and junk occur
 * in real files), and sign-extends when Pixel Representation is 1.
 * `bytes` must hold at least {@link nativeFrameBytes}; extra bytes (padding) are ignored.
 */
export function unpackStoredValues(
  bytes: Uint8Array,
  format: PixelFormat,
  layout: NativeLayout,
): StoredPixelArray {
  const n = pixelCount(format);
  const need = nativeFrameBytes(format);
  if (bytes.length < need) {
    throw new RangeError(`pixel bytes ${bytes.length} < ${need} needed`);
  }
  const shift = format.highBit + 1 - format.bitsStored;
  const out = allocStored(n, format.pixelRepresentation);
  const mask = storedMask(format.bitsStored);
  const signBit = 1 << (format.bitsStored - 1);
  const signed = format.pixelRepresentation === 1;
  if (format.bitsAllocated === 8) {
    for (let i = 0; i < n; i++) {
      const v = (bytes[i]! >> shift) & mask;
      out[i] = signed && v & signBit ? v - (mask + 1) : v;
    }
    return out;
  }
  const hiOff = layout.littleEndian ? 1 : 0;
  const loOff = 1 - hiOff;
  for (let i = 0, p = 0; i < n; i++, p += 2) {
    const raw = (bytes[p + hiOff]! << 8) | bytes[p + loOff]!;
    const v = (raw >> shift) & mask;
    out[i] = signed && v & signBit ? v - (mask + 1) : v;
  }
  return out;
}

/**
 * Turns codec output (one sample per pixel, value in the low Bits Stored bits) into stored
 * values. Lossless JPEG/JPEG-LS codecs return the bit pattern unsigned even for signed images,
 * while OpenJPEG returns signed numbers; masking then sign-extending handles both.
 */
export function samplesToStoredValues(
  samples: ArrayLike<number>,
  format: Pick<PixelFormat, 'rows' | 'columns' | 'bitsStored' | 'pixelRepresentation'>,
): StoredPixelArray {
  const n = pixelCount(format);
  if (samples.length < n) {
    throw new RangeError(`decoded samples ${samples.length} < ${n} pixels`);
  }
  const out = allocStored(n, format.pixelRepresentation);
  const mask = storedMask(format.bitsStored);
  const signBit = 1 << (format.bitsStored - 1);
  const signed = format.pixelRepresentation === 1;
  for (let i = 0; i < n; i++) {
    const v = samples[i]! & mask;
    out[i] = signed && v & signBit ? v - (mask + 1) : v;
  }
  return out;
}

/** Smallest and largest value a stored sample can take. */
export function storedRange(format: Pick<PixelFormat, 'bitsStored' | 'pixelRepresentation'>): {
  min: number;
  max: number;
} {
  if (format.pixelRepresentation === 1) {
    const half = 2 ** (format.bitsStored - 1);
    return { min: -half, max: half - 1 };
  }
  return { min: 0, max: 2 ** format.bitsStored - 1 };
}

/** Minimum and maximum of the actual data (for auto-windowing and thumbnails). */
export function dataRange(data: ArrayLike<number>): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return data.length === 0 ? { min: 0, max: 0 } : { min, max };
}

function storedMask(bitsStored: number): number {
  return bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
}

function allocStored(n: number, pixelRepresentation: 0 | 1): StoredPixelArray {
  return pixelRepresentation === 1 ? new Int16Array(n) : new Uint16Array(n);
}
