import {
  type LookupTable,
  type StoredHistogram,
  type StoredPixelArray,
  type VoiLutFunction,
  type VoiWindow,
  decodeRleFrame,
  halve,
  lutFromDescriptor,
  samplesToStoredValues,
  storedRange,
  unpackStoredValues,
} from '@cxr/shared';
import * as dicomParser from 'dicom-parser';
import { inflateRaw } from 'pako';
import type { PixelModule } from './pipeline.js';

/**
 * The image the viewer displays. Pixel data is kept as `stored - storedRange.min` (the offset
 * of the shared display LUT), so one table read turns a pixel into its grey.
 */
export interface DecodedImage {
  readonly module: PixelModule;
  /** Smallest and largest stored value actually present (the drag range). */
  readonly dataMin: number;
  readonly dataMax: number;
  /** Counts per stored value over the whole Bits Stored range; its offset is the index base. */
  readonly histogram: StoredHistogram;
  /** Pyramid: level 0 at full resolution, then 2x2 averages until the long side is small. */
  readonly levels: readonly PyramidLevel[];
  readonly transferSyntax: string;
  /** True for the grey placeholder shown when the scan has no pixels on the server. */
  readonly placeholder: boolean;
  /** True while this is the quarter-resolution preview painted before the full file arrives. */
  readonly preview?: boolean;
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

function readLut(
  dataSet: dicomParser.DataSet,
  sequenceTag: string,
  signed: boolean,
): LookupTable | undefined {
  const item = dataSet.elements[sequenceTag]?.items?.[0]?.dataSet;
  const descriptorElement = item?.elements.x00283002;
  const dataElement = item?.elements.x00283006;
  if (!item || !descriptorElement || !dataElement) return undefined;
  const descriptor = [0, 1, 2].map((i) => item.uint16('x00283002', i) ?? 0);
  const entries = descriptor[0] === 0 ? 65536 : (descriptor[0] ?? 0);
  // LUT Data is OW (or US): 16-bit words; some writers pack 8-bit entries, one per byte.
  const wide = dataElement.length >= entries * 2;
  const data = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) {
    data[i] = wide ? (item.uint16('x00283006', i) ?? 0) : (item.byteArray[dataElement.dataOffset + i] ?? 0);
  }
  return lutFromDescriptor(descriptor, data, signed, item.string('x00283003') ?? undefined);
}

function voiFunction(text: string | undefined): VoiLutFunction {
  const t = (text ?? '').trim().toUpperCase();
  return t === 'LINEAR_EXACT' || t === 'SIGMOID' ? t : 'LINEAR';
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
  const highBit = dataSet.uint16('x00280102') ?? bitsStored - 1;
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
  const signed = pixelRepresentation === 1;
  const voiLut = readLut(dataSet, 'x00283010', signed);
  const modalityLut = readLut(dataSet, 'x00283000', signed);
  const module: PixelModule = {
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometric: photometricText,
    rescaleSlope: slope === 0 ? 1 : slope,
    rescaleIntercept: intercept,
    windows,
    voiLutFunction: voiFunction(dataSet.string('x00281056')),
    ...(voiLut ? { voiLut } : {}),
    ...(modalityLut ? { modalityLut } : {}),
  };
  return { module, transferSyntax, dataSet, pixelElement, bytes: dataSet.byteArray };
}

/** Native pixel data through the shared unpacker (High Bit shift, mask, sign, byte order). */
function nativeStored(parsed: ParsedDicom): StoredPixelArray {
  const { module, pixelElement, bytes, transferSyntax } = parsed;
  const need = module.rows * module.columns * (module.bitsAllocated / 8);
  if (pixelElement.dataOffset + need > bytes.byteLength || pixelElement.length < need) {
    throw new DicomError('pixel data is shorter than Rows x Columns');
  }
  const frame = bytes.subarray(pixelElement.dataOffset, pixelElement.dataOffset + need);
  return unpackStoredValues(frame, module, { littleEndian: transferSyntax !== TRANSFER_SYNTAX.explicitBE });
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

/** The first frame as stored values (masked to Bits Stored, sign-extended when signed). */
export async function storedValues(parsed: ParsedDicom, codecs: Codecs): Promise<StoredPixelArray> {
  const syntax = parsed.transferSyntax;
  switch (syntax) {
    case TRANSFER_SYNTAX.implicitLE:
    case TRANSFER_SYNTAX.explicitLE:
    case TRANSFER_SYNTAX.deflatedLE:
    case TRANSFER_SYNTAX.explicitBE:
      return nativeStored(parsed);
    case TRANSFER_SYNTAX.rle: {
      const decoded = decodeRleFrame(encapsulatedFrame(parsed), parsed.module);
      if (!decoded.ok) throw new DicomError(decoded.error.message);
      return unpackStoredValues(decoded.value, parsed.module, { littleEndian: true });
    }
    case TRANSFER_SYNTAX.jpegLossless57:
    case TRANSFER_SYNTAX.jpegLossless70:
    case TRANSFER_SYNTAX.jpegLsLossless:
    case TRANSFER_SYNTAX.jpegLsNear:
    case TRANSFER_SYNTAX.j2kLossless:
    case TRANSFER_SYNTAX.j2k:
      return samplesToStoredValues(
        await codecs.decode(syntax, encapsulatedFrame(parsed), parsed.module),
        parsed.module,
      );
    default:
      throw new DicomError(`unsupported transfer syntax ${syntax}`);
  }
}

/**
 * Rebases stored values onto the display LUT's offset (`stored - storedRange.min`, which fits
 * 16 bits for every Bits Stored we accept) and counts the histogram, in one pass.
 */
export function toIndexed(
  stored: StoredPixelArray,
  module: PixelModule,
  transferSyntax: string,
): Omit<DecodedImage, 'levels'> & { data: Uint16Array } {
  const count = module.rows * module.columns;
  if (stored.length < count) throw new DicomError('decoded frame is smaller than Rows x Columns');
  const { min, max } = storedRange(module);
  const counts = new Uint32Array(max - min + 1);
  const data = new Uint16Array(count);
  let lo = max - min;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    const index = (stored[i] as number) - min;
    data[i] = index;
    counts[index] = (counts[index] as number) + 1;
    if (index < lo) lo = index;
    if (index > hi) hi = index;
  }
  if (count === 0) lo = hi = 0;
  return {
    module,
    dataMin: lo + min,
    dataMax: hi + min,
    histogram: { offset: min, counts, total: count },
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
    current = { step: current.step * 2, ...halve(current.data, current.width, current.height) };
    levels.push(current);
  }
  return levels;
}

/**
 * A decoded preview (the server's quarter-resolution file) as the image it stands for: the
 * full image's size, with the preview's levels at their steps in the full image. Everything
 * drawn on it (boxes, cursors) is in full-image pixels from the first frame on.
 */
export function asPreviewOf(
  preview: DecodedImage,
  full: { readonly rows: number; readonly columns: number; readonly step: number },
): DecodedImage {
  return {
    ...preview,
    module: { ...preview.module, rows: full.rows, columns: full.columns },
    levels: preview.levels.map((level) => ({ ...level, step: level.step * full.step })),
    preview: true,
  };
}

/** A uniform grey stand-in of the scan's size, so annotation works before pixels exist. */
export function placeholderImage(rows: number, columns: number): DecodedImage {
  const step = 16;
  const width = Math.max(1, Math.ceil(columns / step));
  const height = Math.max(1, Math.ceil(rows / step));
  const grey = 60;
  const module: PixelModule = {
    rows,
    columns,
    bitsAllocated: 8,
    bitsStored: 8,
    highBit: 7,
    pixelRepresentation: 0,
    photometric: 'MONOCHROME2',
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [{ center: 127.5, width: 256 }],
    voiLutFunction: 'LINEAR',
  };
  const counts = new Uint32Array(256);
  counts[grey] = width * height;
  return {
    module,
    dataMin: grey,
    dataMax: grey,
    histogram: { offset: 0, counts, total: width * height },
    levels: [{ step, width, height, data: new Uint16Array(width * height).fill(grey) }],
    transferSyntax: 'none',
    placeholder: true,
  };
}
