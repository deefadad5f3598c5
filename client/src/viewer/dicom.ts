import * as dicomParser from 'dicom-parser';
import { inflateRaw } from 'pako';
import type { PixelModule, VoiLut, VoiWindow } from './pipeline.js';

/** The image the viewer displays; index data is `stored - storedMin` so it can address the LUT. */
export interface DecodedImage {
  readonly module: PixelModule;
  readonly storedMin: number;
  readonly storedMax: number;
  /** Counts per index (stored - storedMin); feeds presets and the auto-window. */
  readonly histogram: Uint32Array;
  readonly total: number;
  /** Pyramid: level 0 at full resolution, then 2x2 averages until the long side is small. */
  readonly levels: readonly PyramidLevel[];
  readonly transferSyntax: string;
  /** True for the grey placeholder shown when the scan has no pixels on the server. */
  readonly placeholder: boolean;
}

export interface PyramidLevel {
  readonly step: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint16Array;
}

export class DicomError extends Error {}

export const TRANSFER_SYNTAX = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegLossless57: '1.2.840.10008.1.2.4.57',
  jpegLossless70: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
} as const;

const MAX_SIDE = 8192;

/** The frame as the decoders hand it over: raw samples before masking. */
export type RawSamples = Uint8Array | Int8Array | Uint16Array | Int16Array;

/** Codecs for encapsulated syntaxes; injected so this module stays testable without WASM. */
export interface Codecs {
  decode(syntax: string, encoded: Uint8Array, module: PixelModule): Promise<RawSamples>;
}

export interface ParsedDicom {
  readonly module: PixelModule;
  readonly transferSyntax: string;
  readonly dataSet: dicomParser.DataSet;
  readonly pixelElement: dicomParser.Element;
  readonly bytes: Uint8Array;
}

function inflater(arr: Uint8Array, position: number): Uint8Array {
  // Deflated explicit VR LE: everything after the meta header is raw deflate (PS3.5 A.5).
  const inflated = inflateRaw(arr.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(arr.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

function numbers(dataSet: dicomParser.DataSet, tag: string): number[] {
  const text = dataSet.string(tag);
  if (!text) return [];
  return text
    .split('\\')
    .map((t) => Number.parseFloat(t))
    .filter((n) => Number.isFinite(n));
}

function readVoiLut(dataSet: dicomParser.DataSet): VoiLut | undefined {
  const seq = dataSet.elements.x00283010;
  const item = seq?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const descriptor = item.elements.x00283002;
  const lutData = item.elements.x00283006;
  if (!descriptor || !lutData) return undefined;
  // The descriptor is US or SS depending on the first mapped value; read it as unsigned
  // and reinterpret the middle value when it is signed.
  let entries = item.uint16('x00283002', 0) ?? 0;
  if (entries === 0) entries = 65536;
  let firstMapped = item.uint16('x00283002', 1) ?? 0;
  if (dataSet.uint16('x00280103') === 1 && firstMapped > 32767) firstMapped -= 65536;
  const bits = item.uint16('x00283002', 2) ?? 16;
  const data = new Uint16Array(entries);
  const byteWidth = lutData.length >= entries * 2 ? 2 : 1;
  for (let i = 0; i < entries; i++) {
    data[i] =
      byteWidth === 2 ? (item.uint16('x00283006', i) ?? 0) : (item.byteArray[lutData.dataOffset + i] ?? 0);
  }
  const explanation = item.string('x00283003');
  return { firstMapped, bits, data, ...(explanation ? { explanation } : {}) };
}

/** Parses the header and checks everything the display needs before anything is allocated. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, { inflater });
  } catch (error) {
    const message =
      typeof error === 'string' ? error : error instanceof Error ? error.message : 'unreadable file';
    throw new DicomError(`not a readable DICOM file: ${message}`);
  }
  const transferSyntax = (dataSet.string('x00020010') ?? TRANSFER_SYNTAX.implicitLE)
    .replace(/\0/g, '')
    .trim();
  const rows = dataSet.uint16('x00280010') ?? 0;
  const columns = dataSet.uint16('x00280011') ?? 0;
  const bitsAllocated = dataSet.uint16('x00280100') ?? 0;
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  const pixelRepresentation = dataSet.uint16('x00280103') === 1 ? 1 : 0;
  const samples = dataSet.uint16('x00280002') ?? 1;
  const photometricText = (dataSet.string('x00280004') ?? 'MONOCHROME2').trim();
  if (rows < 1 || columns < 1 || rows > MAX_SIDE || columns > MAX_SIDE) {
    throw new DicomError(`unsupported image size ${columns} x ${rows}`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new DicomError(`unsupported Bits Allocated ${bitsAllocated}`);
  if (bitsStored < 1 || bitsStored > bitsAllocated)
    throw new DicomError(`unsupported Bits Stored ${bitsStored}`);
  if (samples !== 1) throw new DicomError('only single-sample (greyscale) images are supported');
  if (photometricText !== 'MONOCHROME1' && photometricText !== 'MONOCHROME2') {
    throw new DicomError(`unsupported photometric interpretation ${photometricText}`);
  }
  const pixelElement = dataSet.elements.x7fe00010;
  if (!pixelElement) throw new DicomError('the file has no pixel data');
  const centers = numbers(dataSet, 'x00281050');
  const widths = numbers(dataSet, 'x00281051');
  const explanations = (dataSet.string('x00281055') ?? '').split('\\');
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const explanation = explanations[i]?.trim();
    windows.push({ center: centers[i] ?? 0, width: widths[i] ?? 0, ...(explanation ? { explanation } : {}) });
  }
  const slope = numbers(dataSet, 'x00281053')[0] ?? 1;
  const intercept = numbers(dataSet, 'x00281052')[0] ?? 0;
  const voiLut = readVoiLut(dataSet);
  const module: PixelModule = {
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    photometric: photometricText,
    rescaleSlope: slope === 0 ? 1 : slope,
    rescaleIntercept: intercept,
    windows,
    ...(voiLut ? { voiLut } : {}),
  };
  return { module, transferSyntax, dataSet, pixelElement, bytes: dataSet.byteArray };
}

/** The first frame's raw samples, for native syntaxes, without copying when aligned. */
function nativeSamples(parsed: ParsedDicom): RawSamples {
  const { module, pixelElement, bytes, transferSyntax } = parsed;
  const count = module.rows * module.columns;
  const byteLength = count * (module.bitsAllocated / 8);
  if (pixelElement.dataOffset + byteLength > bytes.byteLength || pixelElement.length < byteLength) {
    throw new DicomError('pixel data is shorter than Rows x Columns');
  }
  const signed = module.pixelRepresentation === 1;
  if (module.bitsAllocated === 8) {
    const view = bytes.subarray(pixelElement.dataOffset, pixelElement.dataOffset + count);
    return signed ? new Int8Array(view.buffer, view.byteOffset, count) : view;
  }
  const start = bytes.byteOffset + pixelElement.dataOffset;
  const bigEndian = transferSyntax === TRANSFER_SYNTAX.explicitBE;
  let buffer: ArrayBufferLike = bytes.buffer;
  let offset = start;
  if (start % 2 !== 0 || bigEndian) {
    const copy = new Uint8Array(byteLength);
    copy.set(bytes.subarray(pixelElement.dataOffset, pixelElement.dataOffset + byteLength));
    if (bigEndian) {
      for (let i = 0; i < byteLength; i += 2) {
        const a = copy[i] ?? 0;
        copy[i] = copy[i + 1] ?? 0;
        copy[i + 1] = a;
      }
    }
    buffer = copy.buffer;
    offset = 0;
  }
  return signed ? new Int16Array(buffer, offset, count) : new Uint16Array(buffer, offset, count);
}

/** Concatenated fragments of the first (only) frame of an encapsulated pixel data element. */
export function encapsulatedFrame(parsed: ParsedDicom): Uint8Array {
  const { dataSet, pixelElement } = parsed;
  const fragments = pixelElement.fragments ?? [];
  if (fragments.length === 0) throw new DicomError('encapsulated pixel data without fragments');
  const frame = dicomParser.readEncapsulatedPixelDataFromFragments(
    dataSet,
    pixelElement,
    0,
    fragments.length,
  );
  return frame instanceof Uint8Array ? frame : new Uint8Array(frame);
}

/** PS3.5 Annex G: RLE with one segment per byte plane, most significant first. */
export function decodeRle(encoded: Uint8Array, module: PixelModule): RawSamples {
  const count = module.rows * module.columns;
  const bytesPerSample = module.bitsAllocated / 8;
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (encoded.byteLength < 64) throw new DicomError('RLE header is truncated');
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample)
    throw new DicomError(`RLE has ${segments} segments, expected ${bytesPerSample}`);
  const out = new Uint8Array(count * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + s * 4, true);
    const end = s + 1 < segments ? view.getUint32(8 + s * 4, true) : encoded.byteLength;
    // Segment 0 holds the most significant bytes; samples are little-endian in `out`.
    const byteIndex = bytesPerSample - 1 - s;
    let pos = start;
    let pixel = 0;
    while (pos < end && pixel < count) {
      const n = ((encoded[pos++] ?? 0) << 24) >> 24;
      if (n >= 0) {
        for (let i = 0; i <= n && pixel < count; i++)
          out[pixel++ * bytesPerSample + byteIndex] = encoded[pos++] ?? 0;
      } else if (n !== -128) {
        const value = encoded[pos++] ?? 0;
        for (let i = 0; i < 1 - n && pixel < count; i++) out[pixel++ * bytesPerSample + byteIndex] = value;
      }
    }
    if (pixel < count) throw new DicomError('RLE segment is truncated');
  }
  const signed = module.pixelRepresentation === 1;
  if (bytesPerSample === 1) return signed ? new Int8Array(out.buffer) : out;
  return signed ? new Int16Array(out.buffer) : new Uint16Array(out.buffer);
}

export async function frameSamples(parsed: ParsedDicom, codecs: Codecs): Promise<RawSamples> {
  const syntax = parsed.transferSyntax;
  switch (syntax) {
    case TRANSFER_SYNTAX.implicitLE:
    case TRANSFER_SYNTAX.explicitLE:
    case TRANSFER_SYNTAX.deflatedLE:
    case TRANSFER_SYNTAX.explicitBE:
      return nativeSamples(parsed);
    case TRANSFER_SYNTAX.rle:
      return decodeRle(encapsulatedFrame(parsed), parsed.module);
    case TRANSFER_SYNTAX.jpegLossless57:
    case TRANSFER_SYNTAX.jpegLossless70:
    case TRANSFER_SYNTAX.jpegLsLossless:
    case TRANSFER_SYNTAX.jpegLsNear:
    case TRANSFER_SYNTAX.j2kLossless:
    case TRANSFER_SYNTAX.j2k:
      return codecs.decode(syntax, encapsulatedFrame(parsed), parsed.module);
    default:
      throw new DicomError(`unsupported transfer syntax ${syntax}`);
  }
}

/**
 * Masks every sample to Bits Stored (sign-extending signed data), then rewrites it as an
 * index into the display LUT (stored - min) and counts the histogram, in two passes.
 */
export function toIndexed(
  samples: RawSamples,
  module: PixelModule,
  transferSyntax: string,
): Omit<DecodedImage, 'levels'> & { data: Uint16Array } {
  const count = module.rows * module.columns;
  if (samples.length < count) throw new DicomError('decoded frame is smaller than Rows x Columns');
  const bits = module.bitsStored;
  const mask = (1 << bits) - 1;
  const signed = module.pixelRepresentation === 1;
  const signBit = 1 << (bits - 1);
  const full = 1 << bits;
  const values = new Int32Array(count);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    let v = (samples[i] ?? 0) & mask;
    if (signed && v >= signBit) v -= full;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (count === 0) {
    min = 0;
    max = 0;
  }
  const histogram = new Uint32Array(max - min + 1);
  const data = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const index = (values[i] ?? 0) - min;
    data[i] = index;
    histogram[index] = (histogram[index] ?? 0) + 1;
  }
  return {
    module,
    storedMin: min,
    storedMax: max,
    histogram,
    total: count,
    data,
    transferSyntax,
    placeholder: false,
  };
}

/** 2x2 box-filtered levels so zoomed-out views are not aliased by nearest sampling. */
export function buildPyramid(
  data: Uint16Array,
  width: number,
  height: number,
  minSide = 512,
): PyramidLevel[] {
  const levels: PyramidLevel[] = [{ step: 1, width, height, data }];
  let current = levels[0] as PyramidLevel;
  while (Math.max(current.width, current.height) > minSide && Math.min(current.width, current.height) >= 2) {
    const w = Math.floor(current.width / 2);
    const h = Math.floor(current.height / 2);
    const src = current.data;
    const sw = current.width;
    const out = new Uint16Array(w * h);
    for (let y = 0; y < h; y++) {
      const r0 = 2 * y * sw;
      const r1 = r0 + sw;
      for (let x = 0; x < w; x++) {
        const c = 2 * x;
        out[y * w + x] =
          ((src[r0 + c] ?? 0) + (src[r0 + c + 1] ?? 0) + (src[r1 + c] ?? 0) + (src[r1 + c + 1] ?? 0) + 2) >>
          2;
      }
    }
    current = { step: current.step * 2, width: w, height: h, data: out };
    levels.push(current);
  }
  return levels;
}

/** A uniform grey stand-in of the scan's size, so annotation works before pixels exist. */
export function placeholderImage(rows: number, columns: number): DecodedImage {
  const step = 16;
  const width = Math.max(1, Math.ceil(columns / step));
  const height = Math.max(1, Math.ceil(rows / step));
  const module: PixelModule = {
    rows,
    columns,
    bitsAllocated: 16,
    bitsStored: 16,
    pixelRepresentation: 0,
    photometric: 'MONOCHROME2',
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [{ center: 128, width: 256 }],
  };
  const histogram = new Uint32Array(1);
  histogram[0] = width * height;
  return {
    module,
    storedMin: 60,
    storedMax: 60,
    histogram,
    total: width * height,
    levels: [{ step, width, height, data: new Uint16Array(width * height) }],
    transferSyntax: 'none',
    placeholder: true,
  };
}
