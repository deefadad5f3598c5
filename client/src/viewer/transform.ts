/**
 * Image-pixel and screen coordinates are different types (STYLE habit 6): a box is stored in
 * image pixels whatever the zoom, pan or flip, and only this module converts between the two.
 *
 * Model: screen = viewportCentre + pan + scale * F * (image - imageCentre), with
 * F = diag(flipH ? -1 : 1, flipV ? -1 : 1). No rotation, so the map is separable per axis,
 * which the renderer uses to precompute one index table per row and per column.
 */

declare const imageSpace: unique symbol;
declare const screenSpace: unique symbol;

/** A point in original image pixels, origin top-left (what the CSV exports hold). */
export interface ImagePoint {
  readonly x: number;
  readonly y: number;
  readonly [imageSpace]: true;
}

/** A point in CSS pixels of the viewport, origin top-left of the viewer element. */
export interface ScreenPoint {
  readonly x: number;
  readonly y: number;
  readonly [screenSpace]: true;
}

export const imagePoint = (x: number, y: number): ImagePoint => ({ x, y }) as ImagePoint;
export const screenPoint = (x: number, y: number): ScreenPoint => ({ x, y }) as ScreenPoint;

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** What the user controls; `scale` is screen pixels per image pixel. */
export interface ViewState {
  readonly scale: number;
  readonly panX: number;
  readonly panY: number;
  readonly flipH: boolean;
  readonly flipV: boolean;
}

export interface Viewport {
  readonly view: ViewState;
  readonly image: Size;
  readonly screen: Size;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;

export function clampScale(scale: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** The scale at which the whole image fits the viewer, with a small margin. */
export function fitScale(image: Size, screen: Size, margin = 0.98): number {
  if (image.width <= 0 || image.height <= 0 || screen.width <= 0 || screen.height <= 0) return 1;
  return clampScale(Math.min(screen.width / image.width, screen.height / image.height) * margin);
}

export function fitView(image: Size, screen: Size, flips?: Pick<ViewState, 'flipH' | 'flipV'>): ViewState {
  return {
    scale: fitScale(image, screen),
    panX: 0,
    panY: 0,
    flipH: flips?.flipH ?? false,
    flipV: flips?.flipV ?? false,
  };
}

const sign = (flip: boolean) => (flip ? -1 : 1);

export function imageToScreen(vp: Viewport, p: ImagePoint): ScreenPoint {
  const { view, image, screen } = vp;
  return screenPoint(
    screen.width / 2 + view.panX + view.scale * sign(view.flipH) * (p.x - image.width / 2),
    screen.height / 2 + view.panY + view.scale * sign(view.flipV) * (p.y - image.height / 2),
  );
}

export function screenToImage(vp: Viewport, p: ScreenPoint): ImagePoint {
  const { view, image, screen } = vp;
  return imagePoint(
    image.width / 2 + (sign(view.flipH) * (p.x - screen.width / 2 - view.panX)) / view.scale,
    image.height / 2 + (sign(view.flipV) * (p.y - screen.height / 2 - view.panY)) / view.scale,
  );
}

/** Zooms to `scale` keeping the image point under `anchor` where it is on screen. */
export function zoomAt(vp: Viewport, anchor: ScreenPoint, scale: number): ViewState {
  const next = clampScale(scale);
  const fixed = screenToImage(vp, anchor);
  const { view, image, screen } = vp;
  return {
    ...view,
    scale: next,
    panX: anchor.x - screen.width / 2 - next * sign(view.flipH) * (fixed.x - image.width / 2),
    panY: anchor.y - screen.height / 2 - next * sign(view.flipV) * (fixed.y - image.height / 2),
  };
}

export function panBy(view: ViewState, dx: number, dy: number): ViewState {
  return { ...view, panX: view.panX + dx, panY: view.panY + dy };
}

/**
 * Flips keep the image point at the viewport centre where it is, so flipping a zoomed-in view
 * mirrors around what the reader is looking at rather than jumping elsewhere.
 */
export function flip(vp: Viewport, axis: 'h' | 'v'): ViewState {
  const { view } = vp;
  return axis === 'h'
    ? { ...view, flipH: !view.flipH, panX: -view.panX }
    : { ...view, flipV: !view.flipV, panY: -view.panY };
}

/** An axis-aligned rectangle; `ScreenRect` and `ImageRect` are never mixed up by the compiler. */
export interface ScreenRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly [screenSpace]: true;
}

export interface ImageBox {
  readonly x_min: number;
  readonly y_min: number;
  readonly x_max: number;
  readonly y_max: number;
}

export const screenRect = (x: number, y: number, width: number, height: number): ScreenRect =>
  ({ x, y, width, height }) as ScreenRect;

/** The on-screen rectangle of an image box; flips swap which corner is top-left. */
export function boxToScreen(vp: Viewport, box: ImageBox): ScreenRect {
  const a = imageToScreen(vp, imagePoint(box.x_min, box.y_min));
  const b = imageToScreen(vp, imagePoint(box.x_max, box.y_max));
  return screenRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
}

/** The image box under a screen rectangle (not clamped; see `clampBox`). */
export function screenToBox(vp: Viewport, rect: ScreenRect): ImageBox {
  const a = screenToImage(vp, screenPoint(rect.x, rect.y));
  const b = screenToImage(vp, screenPoint(rect.x + rect.width, rect.y + rect.height));
  return {
    x_min: Math.min(a.x, b.x),
    y_min: Math.min(a.y, b.y),
    x_max: Math.max(a.x, b.x),
    y_max: Math.max(a.y, b.y),
  };
}

/**
 * Clamps a box into the image and rounds it to 0.1 px (exports are in pixels; sub-pixel
 * noise from screen conversions would only churn the shared document). Returns undefined
 * when nothing of at least `minSide` image pixels is left.
 */
export function clampBox(box: ImageBox, image: Size, minSide = 1): ImageBox | undefined {
  const round = (v: number) => Math.round(v * 10) / 10;
  const x_min = round(Math.max(0, Math.min(box.x_min, image.width)));
  const x_max = round(Math.max(0, Math.min(box.x_max, image.width)));
  const y_min = round(Math.max(0, Math.min(box.y_min, image.height)));
  const y_max = round(Math.max(0, Math.min(box.y_max, image.height)));
  if (x_max - x_min < minSide || y_max - y_min < minSide) return undefined;
  return { x_min, y_min, x_max, y_max };
}

/**
 * Moves a box by an image-space offset without changing its size, stopping at the image edges
 * (a move never shrinks a box the way clamping would).
 */
export function translateBoxInside(box: ImageBox, dx: number, dy: number, image: Size): ImageBox {
  const w = box.x_max - box.x_min;
  const h = box.y_max - box.y_min;
  const x = Math.max(0, Math.min(box.x_min + dx, image.width - w));
  const y = Math.max(0, Math.min(box.y_min + dy, image.height - h));
  const round = (v: number) => Math.round(v * 10) / 10;
  return { x_min: round(x), y_min: round(y), x_max: round(x + w), y_max: round(y + h) };
}

/**
 * Separable inverse map used by the renderer: for each screen column (and row) the image
 * column (row) at the centre of that screen pixel, or -1 outside the image. `step` is the
 * pyramid level's downsampling factor.
 */
export function axisIndexTable(
  vp: Viewport,
  axis: 'x' | 'y',
  screenLength: number,
  levelLength: number,
  step: number,
  pixelRatio = 1,
  out?: Int32Array,
): Int32Array {
  const table = out && out.length === screenLength ? out : new Int32Array(screenLength);
  const { view, image, screen } = vp;
  const flipped = axis === 'x' ? view.flipH : view.flipV;
  const centreScreen = axis === 'x' ? screen.width / 2 + view.panX : screen.height / 2 + view.panY;
  const centreImage = axis === 'x' ? image.width / 2 : image.height / 2;
  const s = sign(flipped) / view.scale;
  for (let i = 0; i < screenLength; i++) {
    const css = (i + 0.5) / pixelRatio;
    const imageCoord = centreImage + s * (css - centreScreen);
    const level = Math.floor(imageCoord / step);
    table[i] = imageCoord < 0 || level >= levelLength ? -1 : level;
  }
  return table;
}
