import type { DecodedImage, PyramidLevel } from './dicom.js';
import { type PackedLut, type VoiTransform, buildPackedLut } from './pipeline.js';
import { type Viewport, axisIndexTable } from './transform.js';

/** Opaque RGBA of the reading-room background outside the image. */
export const BACKGROUND = 0xff0b0b0b;

/**
 * Picks the pyramid level whose pixels are closest to, but not coarser than, one screen pixel.
 * `imagePerScreen` is image pixels per device pixel.
 */
export function chooseLevel(levels: readonly PyramidLevel[], imagePerScreen: number): PyramidLevel {
  let best = levels[0];
  if (!best) throw new Error('an image has at least one level');
  for (const level of levels) {
    if (level.step <= Math.max(1, imagePerScreen) && level.step > best.step) best = level;
  }
  // A placeholder may only have a coarse level; then the smallest step available wins.
  if (best.step > Math.max(1, imagePerScreen)) {
    for (const level of levels) if (level.step < best.step) best = level;
  }
  return best;
}

/**
 * Fills `out` (device pixels, row-major, packed RGBA) by reading the level through the
 * separable index tables and the display LUT: two table reads and one write per pixel,
 * independent of the image size, so window/level stays smooth on 3000 x 2800.
 */
export function renderInto(
  out: Uint32Array,
  width: number,
  height: number,
  level: PyramidLevel,
  lut: Uint32Array,
  columns: Int32Array,
  rows: Int32Array,
  background = BACKGROUND,
): void {
  const data = level.data;
  const levelWidth = level.width;
  // The first and last visible columns, so the inner loop has no branch.
  let first = 0;
  while (first < width && (columns[first] ?? -1) < 0) first++;
  let last = width - 1;
  while (last >= first && (columns[last] ?? -1) < 0) last--;
  for (let y = 0; y < height; y++) {
    const rowStart = y * width;
    const row = rows[y] ?? -1;
    if (row < 0 || first > last) {
      out.fill(background, rowStart, rowStart + width);
      continue;
    }
    if (first > 0) out.fill(background, rowStart, rowStart + first);
    if (last < width - 1) out.fill(background, rowStart + last + 1, rowStart + width);
    const base = row * levelWidth;
    for (let x = first; x <= last; x++) {
      out[rowStart + x] = lut[data[base + (columns[x] as number)] as number] as number;
    }
  }
}

export interface RenderStats {
  readonly lastFrameMs: number;
  readonly frames: number;
}

/**
 * Draws a decoded image into a canvas for a viewport, window and invert state. Keeps its
 * buffers between frames; the LUT is rebuilt only when the window or invert changes.
 */
export class CanvasRenderer {
  private imageData: ImageData | undefined;
  private pixels: Uint32Array | undefined;
  private columns: Int32Array | undefined;
  private rows: Int32Array | undefined;
  private lut: PackedLut | undefined;
  private lutKey = '';
  private lutImage: DecodedImage | undefined;
  private frames = 0;
  private lastFrameMs = 0;
  /** Frame times of the last frames, for the benchmark and the debug overlay. */
  readonly frameTimes: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  stats(): RenderStats {
    return { lastFrameMs: this.lastFrameMs, frames: this.frames };
  }

  draw(image: DecodedImage, vp: Viewport, voi: VoiTransform, invert: boolean, pixelRatio: number): void {
    const started = performance.now();
    const width = Math.max(1, Math.round(vp.screen.width * pixelRatio));
    const height = Math.max(1, Math.round(vp.screen.height * pixelRatio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) return;
    if (!this.imageData || this.imageData.width !== width || this.imageData.height !== height) {
      this.imageData = ctx.createImageData(width, height);
      this.pixels = new Uint32Array(this.imageData.data.buffer);
    }
    // The table depends on the VOI and invert only (the image is fixed for a renderer).
    const key = `${voi.kind === 'window' ? `${voi.center}:${voi.width}:${voi.fn}` : 'lut'}:${invert}`;
    if (!this.lut || key !== this.lutKey || this.lutImage !== image) {
      this.lut = buildPackedLut(image.module, voi, invert, this.lut?.table);
      this.lutKey = key;
      this.lutImage = image;
    }
    const level = chooseLevel(image.levels, 1 / (vp.view.scale * pixelRatio));
    this.columns = axisIndexTable(vp, 'x', width, level.width, level.step, pixelRatio, this.columns);
    this.rows = axisIndexTable(vp, 'y', height, level.height, level.step, pixelRatio, this.rows);
    renderInto(this.pixels as Uint32Array, width, height, level, this.lut.table, this.columns, this.rows);
    ctx.putImageData(this.imageData, 0, 0);
    this.lastFrameMs = performance.now() - started;
    this.frames++;
    this.frameTimes.push(this.lastFrameMs);
    if (this.frameTimes.length > 1000) this.frameTimes.splice(0, this.frameTimes.length - 1000);
  }
}
