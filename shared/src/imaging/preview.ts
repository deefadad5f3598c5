/**
 * The preview a viewer paints first: the image at a quarter of its resolution in each
 * direction, made by two rounds of 2 x 2 averaging of stored-value indices, which is exactly
 * the viewer's own pyramid level at step 4. A 3000 x 2800 film becomes 750 x 700 (1 MB),
 * which at fit-to-window on a normal screen is already one image pixel per screen pixel.
 */
export const PREVIEW_STEP = 4;

export interface HalvedLevel {
  readonly width: number;
  readonly height: number;
  readonly data: Uint16Array;
}

/** One 2 x 2 box-filter step (rounded), dropping an odd last row or column. */
export function halve(data: Uint16Array, width: number, height: number): HalvedLevel {
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  const out = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * width;
    const r1 = r0 + width;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] =
        ((data[r0 + c] ?? 0) + (data[r0 + c + 1] ?? 0) + (data[r1 + c] ?? 0) + (data[r1 + c + 1] ?? 0) + 2) >>
        2;
    }
  }
  return { width: w, height: h, data: out };
}

/** Whether an image is large enough to be worth a preview (both sides at least one step). */
export function hasPreview(rows: number, columns: number): boolean {
  return rows >= PREVIEW_STEP * 64 && columns >= PREVIEW_STEP * 64;
}
