import {
  autoWindow,
  halve,
  PREVIEW_STEP,
  type Result,
  type StoredPixelArray,
  storedHistogram,
  storedRange,
} from '@cxr/shared';
import { type DecodeOptions, decodePixels } from './decode.js';
import { copyElement } from './deidentify.js';
import { type DicomElement, dsElement, stringElement, usElement, writePart10 } from './dicom-writer.js';
import type { DicomError } from './errors.js';
import { guardParser, parseDicomBytes } from './parse.js';
import { DX_FOR_PRESENTATION, parserKey, TAG, tagFromKey } from './tags.js';
import { EXPLICIT_VR_LE } from './transfer-syntax.js';
import { cleanUid } from './inspect.js';

/** Attributes the preview writes itself rather than copying from the stored file. */
const REPLACED = new Set<number>([TAG.Rows, TAG.Columns, TAG.PixelData]);

/**
 * A small DICOM file (explicit VR little endian) with the stored file's attributes and its
 * pixels at 1 / PREVIEW_STEP of the resolution: exactly the viewer's pyramid level at that
 * step, so the viewer can paint it first and swap in the full image when it arrives without
 * any visible change at fit-to-window. A file with neither a window nor a VOI LUT gets the
 * window the viewer would compute from the full image's histogram, so the first paint and the
 * final one use the same window. Pixel Spacing stays the full image's: the file only ever
 * stands in for that image (the viewer gives it the full size back), it is not a study object.
 */
export async function renderPreview(
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): Promise<Result<Uint8Array, DicomError>> {
  const decoded = await decodePixels(bytes, opts);
  if (!decoded.ok) return decoded;
  const image = decoded.value;
  const parsed = parseDicomBytes(bytes, opts);
  if (!parsed.ok) return parsed;
  const ds = parsed.value.dataSet;
  return guardParser(() => {
    const { min } = storedRange(image);
    let level = { width: image.columns, height: image.rows, data: toIndices(image.data, min) };
    for (let step = 1; step < PREVIEW_STEP; step *= 2) level = halve(level.data, level.width, level.height);
    const out: DicomElement[] = [];
    for (const key of Object.keys(ds.elements)) {
      const tag = tagFromKey(key);
      // Group 2 (file meta) is written by writePart10 itself.
      if (tag >>> 16 === 0x0002 || REPLACED.has(tag)) continue;
      const copied = copyElement(ds, ds.elements[key]!, tag, false);
      if (copied) out.push(copied);
    }
    out.push(usElement(TAG.Rows, [level.height]), usElement(TAG.Columns, [level.width]));
    const info = image.info;
    if (!info.voiLut && !(info.windows[0] && info.windows[0].width > 0)) {
      const auto = autoWindow(storedHistogram(image.data, image), info);
      out.push(
        dsElement(TAG.WindowCenter, [auto.center]),
        dsElement(TAG.WindowWidth, [auto.width]),
        stringElement(TAG.WindowCenterWidthExplanation, 'LO', 'AUTO'),
      );
    }
    out.push(pixelData(level.data, min, image.bitsAllocated));
    const sopClassUid = cleanUid(ds.string(parserKey(TAG.SOPClassUID))) ?? DX_FOR_PRESENTATION;
    const sopInstanceUid = cleanUid(ds.string(parserKey(TAG.SOPInstanceUID))) ?? '2.25.0';
    return writePart10({ sopClassUid, sopInstanceUid, transferSyntaxUid: EXPLICIT_VR_LE }, out);
  });
}

function toIndices(data: StoredPixelArray, min: number): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! - min;
  return out;
}

/** Indices back to stored values, in the stored file's bits allocated, little endian. */
function pixelData(indices: Uint16Array, min: number, bitsAllocated: number): DicomElement {
  if (bitsAllocated === 8) {
    const bytes = new Uint8Array(indices.length + (indices.length % 2));
    for (let i = 0; i < indices.length; i++) bytes[i] = (indices[i]! + min) & 0xff;
    return { tag: TAG.PixelData, vr: 'OB', value: bytes };
  }
  const words = new Uint16Array(indices.length);
  // Two's complement for signed pixels: the viewer masks to Bits Stored and sign-extends.
  for (let i = 0; i < indices.length; i++) words[i] = (indices[i]! + min) & 0xffff;
  return { tag: TAG.PixelData, vr: 'OW', value: new Uint8Array(words.buffer) };
}
