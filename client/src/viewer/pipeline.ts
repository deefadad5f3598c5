import {
  type DisplayParams,
  type PixelFormat,
  type StoredHistogram,
  type VoiTransform,
  autoWindow,
  buildDisplayLut,
  defaultVoi,
  presetWindow,
  shouldInvert,
} from '@cxr/shared';

/**
 * The viewer's side of the display pipeline. The DICOM chain itself (masking, modality LUT,
 * VOI / VOI LUT, MONOCHROME1 inversion after VOI, relative chest presets, auto-window) is the
 * shared imaging module, the same code the server's thumbnails use; this file only packs its
 * 8-bit table into canvas pixels and maps presets and mouse drags onto VOI transforms.
 */

export type { StoredHistogram, VoiTransform };

/** Everything the display needs besides the pixels. */
export type PixelModule = PixelFormat & DisplayParams;

export type PresetId = 'default' | 'lung' | 'mediastinum' | 'bone' | 'auto';

export interface Preset {
  readonly id: PresetId;
  readonly label: string;
  readonly voi: VoiTransform;
}

/**
 * The display table for the canvas: entry `stored - offset` is the grey for that stored value,
 * packed as opaque RGBA in little-endian byte order, ready to write into an ImageData.
 */
export interface PackedLut {
  readonly offset: number;
  readonly table: Uint32Array;
}

export function buildPackedLut(
  module: PixelModule,
  voi: VoiTransform,
  userInvert: boolean,
  out?: Uint32Array,
): PackedLut {
  const lut = buildDisplayLut(module, module, { voi, invert: shouldInvert(module.photometric, userInvert) });
  const n = lut.table.length;
  const table = out && out.length === n ? out : new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const g = lut.table[i] ?? 0;
    table[i] = (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
  }
  return { offset: lut.offset, table };
}

/**
 * File (its VOI LUT or first window, else auto), lung, mediastinum, bone (relative to the
 * image's own value range) and the histogram auto-window; never CT Hounsfield presets.
 */
export function presets(module: PixelModule, histogram: StoredHistogram): Preset[] {
  const asVoi = (w: { center: number; width: number }): VoiTransform => ({
    kind: 'window',
    center: w.center,
    width: w.width,
    fn: 'LINEAR',
  });
  const hasOwn = module.voiLut !== undefined || (module.windows[0]?.width ?? 0) > 0;
  return [
    { id: 'default', label: hasOwn ? 'File' : 'Auto', voi: defaultVoi(module, histogram) },
    { id: 'lung', label: 'Lung', voi: asVoi(presetWindow('lung', histogram, module.photometric, module)) },
    {
      id: 'mediastinum',
      label: 'Mediastinum',
      voi: asVoi(presetWindow('mediastinum', histogram, module.photometric, module)),
    },
    { id: 'bone', label: 'Bone', voi: asVoi(presetWindow('bone', histogram, module.photometric, module)) },
    { id: 'auto', label: 'Auto', voi: asVoi(autoWindow(histogram, module)) },
  ];
}

/**
 * Window/level drag: horizontal motion changes the width, vertical the centre, both scaled to
 * the image's value range so one drag across the viewer spans the useful range. A VOI LUT is
 * replaced by the window it starts from.
 */
export function dragWindow(
  voi: VoiTransform,
  dx: number,
  dy: number,
  range: number,
  fallback: { center: number; width: number },
): VoiTransform {
  const base = voi.kind === 'window' ? voi : { ...fallback, fn: 'LINEAR' as const };
  const k = Math.max(range, 2) / 600;
  return {
    kind: 'window',
    center: base.center + dy * k,
    width: Math.max(1, base.width + dx * k),
    fn: base.fn,
  };
}

/** A short text for the toolbar. */
export function describeVoi(voi: VoiTransform): string {
  return voi.kind === 'window' ? `W ${Math.round(voi.width)} / L ${Math.round(voi.center)}` : 'VOI LUT';
}
