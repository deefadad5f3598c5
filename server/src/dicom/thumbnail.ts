import { PNG } from 'pngjs';
import type { Result } from '@cxr/shared';
import { type DecodedDicom, type DecodeOptions, decodePixels } from './decode.js';
import type { DicomError } from './errors.js';
import {
  applyDisplayLut,
  buildDisplayLut,
  type ChestPreset,
  defaultVoi,
  presetWindow,
  shouldInvert,
  storedHistogram,
  type VoiTransform,
} from './imaging.js';

export interface ThumbnailOptions extends DecodeOptions {
  /** Longest side of the PNG in pixels; images are only ever shrunk. Default 256. */
  maxSide?: number;
  /** `file` (default): the file's VOI LUT or window, else auto; or a relative chest preset. */
  voi?: 'file' | 'auto' | ChestPreset;
}

/**
 * An 8-bit greyscale PNG for worklists, through the same pipeline as the viewer: stored values
 * -> modality LUT -> VOI -> MONOCHROME1 inversion -> 8 bits, then a box-filter shrink (averaging
 * grey levels, not stored values, so the thumbnail looks like the windowed image).
 */
export async function renderThumbnail(
  input: Uint8Array | DecodedDicom,
  opts: ThumbnailOptions = {},
): Promise<Result<Buffer, DicomError>> {
  let image: DecodedDicom;
  if (input instanceof Uint8Array) {
    const decoded = await decodePixels(input, opts);
    if (!decoded.ok) return decoded;
    image = decoded.value;
  } else {
    image = input;
  }
  const hist = storedHistogram(image.data, image);
  const choice = opts.voi ?? 'file';
  const info = image.info;
  let voi: VoiTransform;
  if (choice === 'file') {
    voi = defaultVoi(info, hist);
  } else if (choice === 'auto') {
    voi = defaultVoi({ ...info, windows: [], voiLut: undefined }, hist);
  } else {
    const w = presetWindow(choice, hist, image.photometric, info);
    voi = { kind: 'window', center: w.center, width: w.width, fn: 'LINEAR' };
  }
  const lut = buildDisplayLut(image, info, { voi, invert: shouldInvert(image.photometric) });
  const grey = applyDisplayLut(image.data, lut);
  const maxSide = Math.max(1, Math.floor(opts.maxSide ?? 256));
  const scale = Math.min(1, maxSide / Math.max(image.rows, image.columns));
  const width = Math.max(1, Math.round(image.columns * scale));
  const height = Math.max(1, Math.round(image.rows * scale));
  const small = boxShrink(grey, image.columns, image.rows, width, height);
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(small.buffer, small.byteOffset, small.byteLength);
  return { ok: true, value: PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }) };
}

/** Area-average resize: each output pixel is the mean of the source block it covers. */
function boxShrink(src: ArrayLike<number>, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const y0 = Math.floor((y * sh) / dh);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * sh) / dh));
    for (let x = 0; x < dw; x++) {
      const x0 = Math.floor((x * sw) / dw);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * sw) / dw));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) {
        const row = yy * sw;
        for (let xx = x0; xx < x1; xx++) sum += src[row + xx]!;
      }
      out[y * dw + x] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
    }
  }
  return out;
}
