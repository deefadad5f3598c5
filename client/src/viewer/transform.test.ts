import { describe, expect, it } from 'vitest';
import {
  type ViewState,
  type Viewport,
  axisIndexTable,
  boxToScreen,
  clampBox,
  fitView,
  flip,
  imagePoint,
  imageToScreen,
  panBy,
  screenPoint,
  screenToBox,
  screenToImage,
  translateBoxInside,
  zoomAt,
} from './transform.js';

const image = { width: 3000, height: 2800 };
const screen = { width: 1200, height: 900 };

function vp(view: Partial<ViewState> = {}): Viewport {
  return { view: { ...fitView(image, screen), ...view }, image, screen };
}

/** Deterministic pseudo-random numbers so the round trips cover many views reproducibly. */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('image <-> screen transforms', () => {
  it('fit puts the image centre at the viewport centre', () => {
    const p = imageToScreen(vp(), imagePoint(1500, 1400));
    expect(p.x).toBeCloseTo(600);
    expect(p.y).toBeCloseTo(450);
  });

  it('round-trips through zoom, pan and both flips (seeded)', () => {
    const rnd = seeded(42);
    for (let i = 0; i < 500; i++) {
      const v = vp({
        scale: 0.05 + rnd() * 8,
        panX: (rnd() - 0.5) * 4000,
        panY: (rnd() - 0.5) * 4000,
        flipH: rnd() < 0.5,
        flipV: rnd() < 0.5,
      });
      const p = imagePoint(rnd() * 3000, rnd() * 2800);
      const back = screenToImage(v, imageToScreen(v, p));
      expect(back.x).toBeCloseTo(p.x, 6);
      expect(back.y).toBeCloseTo(p.y, 6);
      const s = screenPoint(rnd() * 1200, rnd() * 900);
      const again = imageToScreen(v, screenToImage(v, s));
      expect(again.x).toBeCloseTo(s.x, 6);
      expect(again.y).toBeCloseTo(s.y, 6);
    }
  });

  it('horizontal flip mirrors the x axis around the image centre', () => {
    const plain = vp();
    const flipped = vp({ flipH: true });
    const a = imageToScreen(plain, imagePoint(100, 200));
    const b = imageToScreen(flipped, imagePoint(2900, 200));
    expect(b.x).toBeCloseTo(a.x);
    expect(b.y).toBeCloseTo(a.y);
  });

  it('zoomAt keeps the image point under the cursor fixed', () => {
    const rnd = seeded(7);
    for (let i = 0; i < 100; i++) {
      const v = vp({ flipH: rnd() < 0.5, flipV: rnd() < 0.5, panX: rnd() * 100, panY: -rnd() * 100 });
      const anchor = screenPoint(rnd() * 1200, rnd() * 900);
      const before = screenToImage(v, anchor);
      const zoomed = { ...v, view: zoomAt(v, anchor, v.view.scale * (0.2 + rnd() * 5)) };
      const after = screenToImage(zoomed, anchor);
      expect(after.x).toBeCloseTo(before.x, 6);
      expect(after.y).toBeCloseTo(before.y, 6);
    }
  });

  it('flip keeps the point at the viewport centre and flipping twice restores the view', () => {
    const v = vp({ scale: 2, panX: 300, panY: -120 });
    const centre = screenPoint(600, 450);
    const before = screenToImage(v, centre);
    const once = { ...v, view: flip(v, 'h') };
    const mid = screenToImage(once, centre);
    expect(mid.x).toBeCloseTo(before.x, 6);
    expect(mid.y).toBeCloseTo(before.y, 6);
    const twice = flip(once, 'h');
    expect(twice).toEqual(v.view);
    expect(flip({ ...v, view: flip(v, 'v') }, 'v')).toEqual(v.view);
  });

  it('pan moves every image point by the same screen offset', () => {
    const v = vp({ flipV: true });
    const moved = { ...v, view: panBy(v.view, 25, -40) };
    const p = imagePoint(10, 20);
    const a = imageToScreen(v, p);
    const b = imageToScreen(moved, p);
    expect(b.x - a.x).toBeCloseTo(25);
    expect(b.y - a.y).toBeCloseTo(-40);
  });
});

describe('boxes', () => {
  it('box -> screen -> box round-trips under every flip', () => {
    const box = { x_min: 100, y_min: 250, x_max: 900, y_max: 1300 };
    for (const flipH of [false, true]) {
      for (const flipV of [false, true]) {
        const v = vp({ flipH, flipV, scale: 0.7, panX: 33, panY: -12 });
        const rect = boxToScreen(v, box);
        expect(rect.width).toBeGreaterThan(0);
        expect(rect.height).toBeGreaterThan(0);
        const back = screenToBox(v, rect);
        expect(back.x_min).toBeCloseTo(box.x_min, 6);
        expect(back.y_min).toBeCloseTo(box.y_min, 6);
        expect(back.x_max).toBeCloseTo(box.x_max, 6);
        expect(back.y_max).toBeCloseTo(box.y_max, 6);
      }
    }
  });

  it('clampBox keeps boxes inside the image and drops slivers', () => {
    expect(clampBox({ x_min: -10, y_min: -5, x_max: 50, y_max: 3000 }, image)).toEqual({
      x_min: 0,
      y_min: 0,
      x_max: 50,
      y_max: 2800,
    });
    expect(clampBox({ x_min: 3100, y_min: 0, x_max: 3200, y_max: 10 }, image)).toBeUndefined();
    expect(clampBox({ x_min: 10, y_min: 10, x_max: 10.4, y_max: 20 }, image)).toBeUndefined();
  });

  it('translateBoxInside keeps the size and stops at the edges', () => {
    const moved = translateBoxInside({ x_min: 2900, y_min: 10, x_max: 2990, y_max: 60 }, 500, -100, image);
    expect(moved).toEqual({ x_min: 2910, y_min: 0, x_max: 3000, y_max: 50 });
  });
});

describe('renderer index tables', () => {
  it('maps screen pixel centres to image pixels and marks the outside with -1', () => {
    const v: Viewport = {
      view: { scale: 1, panX: 0, panY: 0, flipH: false, flipV: false },
      image: { width: 4, height: 2 },
      screen: { width: 8, height: 2 },
    };
    expect(Array.from(axisIndexTable(v, 'x', 8, 4, 1))).toEqual([-1, -1, 0, 1, 2, 3, -1, -1]);
    const flipped: Viewport = { ...v, view: { ...v.view, flipH: true } };
    expect(Array.from(axisIndexTable(flipped, 'x', 8, 4, 1))).toEqual([-1, -1, 3, 2, 1, 0, -1, -1]);
    expect(Array.from(axisIndexTable(v, 'x', 8, 2, 2))).toEqual([-1, -1, 0, 0, 1, 1, -1, -1]);
  });

  it('agrees with screenToImage for every column', () => {
    const v = vp({ scale: 0.37, panX: 51, flipH: true });
    const table = axisIndexTable(v, 'x', 1200, 3000, 1);
    for (let sx = 0; sx < 1200; sx += 7) {
      const x = screenToImage(v, screenPoint(sx + 0.5, 0)).x;
      const expected = x < 0 || x >= 3000 ? -1 : Math.floor(x);
      expect(table[sx]).toBe(expected);
    }
  });
});
