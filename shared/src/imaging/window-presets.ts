import { modalityValue } from './modality-lut.js';
import { storedRange } from './stored-values.js';
import type { DisplayParams, PixelFormat, StoredPixelArray, VoiTransform, VoiWindow } from './types.js';

/**
 * Window presets for chest radiographs. CT presets (Hounsfield units) mean nothing on CR/DX, so
 * every preset here is relative to the image's own value distribution: a fraction range of the
 * robust [p0.5, p99.5] span, expressed in display brightness (0 dark .. 1 bright) so that the
 * same preset works for MONOCHROME1 and MONOCHROME2.
 */

/** Histogram of stored values, indexed by `value - offset`, over the full Bits Stored range. */
export interface StoredHistogram {
  offset: number;
  counts: Uint32Array;
  total: number;
}

export function storedHistogram(
  data: StoredPixelArray,
  format: Pick<PixelFormat, 'bitsStored' | 'pixelRepresentation'>,
): StoredHistogram {
  const { min, max } = storedRange(format);
  const counts = new Uint32Array(max - min + 1);
  for (let i = 0; i < data.length; i++) counts[data[i]! - min]!++;
  return { offset: min, counts, total: data.length };
}

/** Smallest stored value v with at least `q` (0..1) of the pixels <= v. */
export function histogramQuantile(h: StoredHistogram, q: number): number {
  if (h.total === 0) return h.offset;
  const target = Math.max(1, Math.ceil(q * h.total));
  let acc = 0;
  for (let i = 0; i < h.counts.length; i++) {
    acc += h.counts[i]!;
    if (acc >= target) return i + h.offset;
  }
  return h.counts.length - 1 + h.offset;
}

/** Lower and upper percentiles the presets stretch between; trims collimator edges and labels. */
export const ROBUST_LOW = 0.005;
export const ROBUST_HIGH = 0.995;

/**
 * Window covering the robust range of the image in modality units (the usual "auto" window
 * of viewers, percentile-based so burned-in text and collimation do not flatten it).
 */
export function autoWindow(
  h: StoredHistogram,
  params: Pick<DisplayParams, 'rescaleSlope' | 'rescaleIntercept' | 'modalityLut'>,
): VoiWindow {
  const { lo, hi } = robustModalityRange(h, params);
  return { center: (lo + hi) / 2, width: Math.max(1, hi - lo), explanation: 'AUTO' };
}

export type ChestPreset = 'lung' | 'mediastinum' | 'bone';

/**
 * Brightness fraction ranges of the presets. Lungs are the dark part of a chest film, so the lung
 * window spends its contrast on the lower brightness range; the mediastinum and bone windows
 * on the upper range (narrow for soft tissue behind the heart, wider for ribs and spine).
 * Tuned by eye on synthetic images; the panel can always adjust.
 */
export const CHEST_PRESETS: Readonly<Record<ChestPreset, readonly [number, number]>> = {
  lung: [0.0, 0.65],
  mediastinum: [0.45, 0.95],
  bone: [0.3, 1.0],
};

/**
 * A preset as a window in modality units. MONOCHROME1 maps low values bright, so its brightness
 * fractions are mirrored before being turned into values.
 */
export function presetWindow(
  preset: ChestPreset,
  h: StoredHistogram,
  photometric: PixelFormat['photometric'],
  params: Pick<DisplayParams, 'rescaleSlope' | 'rescaleIntercept' | 'modalityLut'>,
): VoiWindow {
  const { lo, hi } = robustModalityRange(h, params);
  const [a, b] = CHEST_PRESETS[preset];
  const [fa, fb] = photometric === 'MONOCHROME1' ? [1 - b, 1 - a] : [a, b];
  const vLo = lo + fa * (hi - lo);
  const vHi = lo + fb * (hi - lo);
  return { center: (vLo + vHi) / 2, width: Math.max(1, vHi - vLo), explanation: preset.toUpperCase() };
}

/**
 * The VOI the file asks for: its VOI LUT Sequence when present, else its first window, else an
 * auto window from the histogram (needed when the file carries neither, as many CR files do).
 */
export function defaultVoi(params: DisplayParams, h: StoredHistogram): VoiTransform {
  if (params.voiLut) return { kind: 'lut', lut: params.voiLut };
  const w = params.windows[0];
  if (w && w.width > 0)
    return { kind: 'window', center: w.center, width: w.width, fn: params.voiLutFunction };
  const auto = autoWindow(h, params);
  return { kind: 'window', center: auto.center, width: auto.width, fn: 'LINEAR' };
}

/** Robust range in modality units; min/max of both ends so a negative slope still works. */
function robustModalityRange(
  h: StoredHistogram,
  params: Pick<DisplayParams, 'rescaleSlope' | 'rescaleIntercept' | 'modalityLut'>,
): { lo: number; hi: number } {
  const a = modalityValue(histogramQuantile(h, ROBUST_LOW), params);
  const b = modalityValue(histogramQuantile(h, ROBUST_HIGH), params);
  return { lo: Math.min(a, b), hi: Math.max(a, b) };
}
