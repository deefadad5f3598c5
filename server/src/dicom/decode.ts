import type { DataSet } from 'dicom-parser';
import type { Result } from '@cxr/shared';
import { createFrameDecoders, type FrameDecoders, type FrameSamples } from './codecs/frame-decoders.js';
import { type DicomError, dicomError } from './errors.js';
import {
  decodeRleFrame,
  samplesToStoredValues,
  type StoredImage,
  type StoredPixelArray,
  unpackStoredValues,
} from './imaging.js';
import { type DicomInfo, describeParsed } from './inspect.js';
import { type ParseLimits, parseDicomBytes } from './parse.js';
import { parserKey, TAG } from './tags.js';

/** Stored values of the (single) frame plus everything {@link inspectDicom} reports. */
export interface DecodedDicom extends StoredImage {
  info: DicomInfo;
}

export interface DecodeOptions extends ParseLimits {
  /** Reuse one set across calls to load each WASM codec once; a shared lazy set by default. */
  decoders?: FrameDecoders;
}

let defaultDecoders: FrameDecoders | undefined;

/**
 * Decodes the pixels of any accepted transfer syntax to stored values: masked to Bits Stored,
 * sign-extended when Pixel Representation is 1, no rescale or VOI applied (see the shared
 * imaging pipeline for those). Validates first with the same checks as inspectDicom, so a
 * refused file never reaches a codec. Async because the WASM codecs load asynchronously.
 */
export async function decodePixels(
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): Promise<Result<DecodedDicom, DicomError>> {
  const parsed = parseDicomBytes(bytes, opts);
  if (!parsed.ok) return parsed;
  const described = describeParsed(parsed.value);
  if (!described.ok) return described;
  const info = described.value;
  const ds = parsed.value.dataSet;
  defaultDecoders ??= createFrameDecoders();
  const decoders = opts.decoders ?? defaultDecoders;
  const stored = await storedValues(
    ds,
    info,
    parsed.value.transferSyntax.encoding,
    parsed.value.transferSyntax.littleEndian,
    decoders,
  );
  if (!stored.ok) return stored;
  return {
    ok: true,
    value: {
      rows: info.rows,
      columns: info.columns,
      bitsAllocated: info.bitsAllocated,
      bitsStored: info.bitsStored,
      highBit: info.highBit,
      pixelRepresentation: info.pixelRepresentation,
      photometric: info.photometric,
      data: stored.value,
      info,
    },
  };
}

async function storedValues(
  ds: DataSet,
  info: DicomInfo,
  encoding: 'native' | 'rle' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000',
  littleEndian: boolean,
  decoders: FrameDecoders,
): Promise<Result<StoredPixelArray, DicomError>> {
  if (encoding === 'native') {
    const el = ds.elements[parserKey(TAG.PixelData)]!;
    const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + info.pixelDataBytes);
    return { ok: true, value: unpackStoredValues(bytes, info, { littleEndian }) };
  }
  const frame = frameBytes(ds);
  let samples: Result<FrameSamples, DicomError>;
  switch (encoding) {
    case 'rle': {
      const decoded = decodeRleFrame(frame, info);
      if (!decoded.ok) return { ok: false, error: dicomError('dicom_decode_failed', decoded.error.message) };
      // RLE output is native little-endian bytes, with High Bit where the header says.
      return { ok: true, value: unpackStoredValues(decoded.value, info, { littleEndian: true }) };
    }
    case 'jpeg-lossless':
      samples = await decoders.jpegLossless(frame, info);
      break;
    case 'jpeg-ls':
      samples = await decoders.jpegLs(frame, info);
      break;
    case 'jpeg2000':
      samples = await decoders.jpeg2000(frame, info);
      break;
    default: {
      const never: never = encoding;
      throw new Error(`unhandled pixel encoding ${String(never)}`);
    }
  }
  if (!samples.ok) return samples;
  return { ok: true, value: samplesToStoredValues(samples.value, info) };
}

/**
 * The one frame's compressed bytes: all fragments joined (a single-frame image may be split
 * into several fragments; the Basic Offset Table is not needed and is wrong in some files).
 */
function frameBytes(ds: DataSet): Uint8Array {
  const fragments = ds.elements[parserKey(TAG.PixelData)]?.fragments ?? [];
  if (fragments.length === 1) {
    const f = fragments[0]!;
    return ds.byteArray.subarray(f.position, f.position + f.length);
  }
  const out = new Uint8Array(fragments.reduce((a, f) => a + f.length, 0));
  let o = 0;
  for (const f of fragments) {
    out.set(ds.byteArray.subarray(f.position, f.position + f.length), o);
    o += f.length;
  }
  return out;
}
