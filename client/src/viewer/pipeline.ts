/**
 * The display pipeline in DICOM order (PS3.3 C.11): stored value (masked to Bits Stored,
 * signed when Pixel Representation = 1) -> modality LUT (Rescale Slope/Intercept) -> VOI
 * (VOI LUT Sequence, else Window Center/Width) -> MONOCHROME1 inversion -> 8-bit grey.
 *
 * Everything here is pure and DOM-free so the worker, the renderer and the unit tests share it.
 * The whole chain is folded into one table indexed by (stored value - smallest stored value),
 * so a window/level change costs one table rebuild, never a pass over the pixels.
 */

export type Photometric = 'MONOCHROME1' | 'MONOCHROME2';

export interface VoiWindow {
  readonly center: number;
  readonly width: number;
  readonly explanation?: string;
}

/** A VOI LUT from the file: `data[i]` is the output for input `firstMapped + i`. */
export interface VoiLut {
  readonly firstMapped: number;
  readonly bits: number;
  readonly data: Uint16Array;
  readonly explanation?: string;
}

/** What the display needs to know about the pixels, besides the pixels themselves. */
export interface PixelModule {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly pixelRepresentation: 0 | 1;
  readonly photometric: Photometric;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly windows: readonly VoiWindow[];
  readonly voiLut?: VoiLut;
}

/** Which VOI transform is applied: a window, or the file's VOI LUT. */
export type Voi =
  | { readonly kind: 'window'; readonly center: number; readonly width: number }
  | { readonly kind: 'lut' };

/**
 * Masks a raw sample to Bits Stored (files may carry junk above the high bit) and sign-extends
 * it when Pixel Representation says the data is signed.
 */
export function storedValue(raw: number, bitsStored: number, signed: boolean): number {
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const v = (raw & mask) >>> 0;
  if (!signed) return v;
  const signBit = 2 ** (bitsStored - 1);
  return v >= signBit ? v - 2 ** bitsStored : v;
}

/** Modality LUT: stored value -> modality value. */
export function modalityValue(stored: number, slope: number, intercept: number): number {
  return stored * slope + intercept;
}

/** PS3.3 C.11.2.1.2.1 linear window function, output in [0, 1]. */
export function applyWindow(x: number, center: number, width: number): number {
  if (width <= 1) return x <= center - 0.5 ? 0 : 1;
  const lower = center - 0.5 - (width - 1) / 2;
  const upper = center - 0.5 + (width - 1) / 2;
  if (x <= lower) return 0;
  if (x > upper) return 1;
  return (x - (center - 0.5)) / (width - 1) + 0.5;
}

/** VOI LUT lookup, output in [0, 1]; inputs outside the table take its first or last entry. */
export function applyVoiLut(x: number, lut: VoiLut): number {
  const n = lut.data.length;
  if (n === 0) return 0;
  const i = Math.max(0, Math.min(n - 1, Math.round(x) - lut.firstMapped));
  const max = 2 ** lut.bits - 1;
  return Math.min(1, (lut.data[i] ?? 0) / max);
}

/** Whether the final grey must be inverted: MONOCHROME1 flips once, the user's invert once more. */
export function inverts(photometric: Photometric, userInvert: boolean): boolean {
  return (photometric === 'MONOCHROME1') !== userInvert;
}

/** One stored value through the whole chain to an 8-bit grey level. */
export function displayGrey(stored: number, module: PixelModule, voi: Voi, userInvert: boolean): number {
  const m = modalityValue(stored, module.rescaleSlope, module.rescaleIntercept);
  const unit =
    voi.kind === 'lut' && module.voiLut
      ? applyVoiLut(m, module.voiLut)
      : voi.kind === 'window'
        ? applyWindow(m, voi.center, voi.width)
        : 0;
  const grey = Math.round(unit * 255);
  return inverts(module.photometric, userInvert) ? 255 - grey : grey;
}

/**
 * The display table: entry i is the grey for stored value `storedMin + i`, packed as opaque
 * RGBA in the platform's (little-endian) byte order, ready to copy into an ImageData.
 */
export function buildDisplayLut(
  module: PixelModule,
  storedMin: number,
  storedMax: number,
  voi: Voi,
  userInvert: boolean,
  out?: Uint32Array,
): Uint32Array {
  const size = storedMax - storedMin + 1;
  const lut = out && out.length === size ? out : new Uint32Array(size);
  const { rescaleSlope: slope, rescaleIntercept: intercept } = module;
  const invert = inverts(module.photometric, userInvert);
  const useLut = voi.kind === 'lut' && module.voiLut !== undefined;
  const center = voi.kind === 'window' ? voi.center : 0;
  const width = voi.kind === 'window' ? voi.width : 1;
  for (let i = 0; i < size; i++) {
    const m = (storedMin + i) * slope + intercept;
    const unit = useLut && module.voiLut ? applyVoiLut(m, module.voiLut) : applyWindow(m, center, width);
    let g = Math.round(unit * 255);
    if (invert) g = 255 - g;
    lut[i] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return lut;
}

/** Histogram of stored values (index = stored - storedMin) -> modality-value percentiles. */
export function percentile(histogram: Uint32Array, total: number, fraction: number): number {
  const target = Math.max(0, Math.min(total - 1, Math.floor(total * fraction)));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen > target) return i;
  }
  return histogram.length - 1;
}

export type PresetId = 'default' | 'lung' | 'mediastinum' | 'bone' | 'auto';

export interface Preset {
  readonly id: PresetId;
  readonly label: string;
  readonly voi: Voi;
}

export interface ValueStats {
  readonly storedMin: number;
  readonly histogram: Uint32Array;
  readonly total: number;
}

/**
 * Presets for radiographs, relative to the image's own value distribution (CT Hounsfield
 * presets are meaningless on CR/DX). `lo`/`hi` are the 1st and 99.5th percentiles of modality
 * values. "Dense" is bright on MONOCHROME2 and dark-valued on MONOCHROME1, so the windows are
 * mirrored for MONOCHROME1: the lung window always favours the less dense part of the range.
 */
export function presets(module: PixelModule, stats: ValueStats): Preset[] {
  const toModality = (index: number) =>
    (stats.storedMin + index) * module.rescaleSlope + module.rescaleIntercept;
  const a = toModality(percentile(stats.histogram, stats.total, 0.01));
  const b = toModality(percentile(stats.histogram, stats.total, 0.995));
  const lo = Math.min(a, b);
  const hi = Math.max(a, b, lo + 1);
  const full = hi - lo;
  // A fraction f of "density" (0 = least dense) expressed as a modality value.
  const denseUp = (module.photometric === 'MONOCHROME2') === module.rescaleSlope >= 0;
  const at = (f: number) => (denseUp ? lo + f * full : hi - f * full);
  const window = (from: number, to: number): Voi => ({
    kind: 'window',
    center: (at(from) + at(to)) / 2,
    width: Math.max(2, Math.abs(at(to) - at(from))),
  });
  const auto: Voi = { kind: 'window', center: (lo + hi) / 2, width: Math.max(2, full) };
  const first = module.windows[0];
  const fileVoi: Voi | undefined = module.voiLut
    ? { kind: 'lut' }
    : first && first.width > 0
      ? { kind: 'window', center: first.center, width: first.width }
      : undefined;
  return [
    { id: 'default', label: fileVoi ? 'File' : 'Auto', voi: fileVoi ?? auto },
    { id: 'lung', label: 'Lung', voi: window(0, 0.7) },
    { id: 'mediastinum', label: 'Mediastinum', voi: window(0.45, 1) },
    { id: 'bone', label: 'Bone', voi: window(0.3, 1.15) },
    { id: 'auto', label: 'Auto', voi: auto },
  ];
}

/**
 * Window/level drag: horizontal motion changes the width, vertical the centre, both scaled
 * to the image's value range so one drag across the viewer spans the useful range.
 */
export function dragWindow(
  voi: Voi,
  dx: number,
  dy: number,
  range: number,
  fallback: Voi & { kind: 'window' },
): Voi {
  const base = voi.kind === 'window' ? voi : fallback;
  const k = Math.max(range, 2) / 600;
  return { kind: 'window', center: base.center + dy * k, width: Math.max(2, base.width + dx * k) };
}
