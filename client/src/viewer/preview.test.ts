import { PREVIEW_STEP } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { ViewerController } from './controller.js';
import { asPreviewOf, buildPyramid, toIndexed } from './dicom.js';
import type { PixelModule } from './pipeline.js';
import { chooseLevel } from './render.js';
import { screenPoint } from './transform.js';

/** A 16 x 12 image with a gradient, and its preview as the server makes it (two halvings). */
const full = { rows: 12, columns: 16 };
const module: PixelModule = {
  ...full,
  bitsAllocated: 16,
  bitsStored: 12,
  highBit: 11,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
  voiLutFunction: 'LINEAR',
};
const stored = Uint16Array.from({ length: full.rows * full.columns }, (_, i) => (i * 37) % 4096);

function decoded(m: PixelModule, values: Uint16Array) {
  const indexed = toIndexed(values, m, 'test');
  const { data, ...rest } = indexed;
  return { ...rest, levels: buildPyramid(data, m.columns, m.rows, 1) };
}

describe('first-paint preview', () => {
  const fullImage = decoded(module, stored);
  const level4 = fullImage.levels.find((l) => l.step === PREVIEW_STEP)!;
  const previewModule = { ...module, rows: level4.height, columns: level4.width };
  // The server's preview pixels are the full image's step-4 level (indices + offset 0 here).
  const preview = asPreviewOf(decoded(previewModule, level4.data), { ...full, step: PREVIEW_STEP });

  it('stands in for the full image: its size, its levels at their steps in the full image', () => {
    expect(preview.module.rows).toBe(full.rows);
    expect(preview.module.columns).toBe(full.columns);
    expect(preview.preview).toBe(true);
    expect(preview.levels.map((l) => l.step)).toEqual(
      fullImage.levels.filter((l) => l.step >= PREVIEW_STEP).map((l) => l.step),
    );
    // At fit (4 or more image pixels per screen pixel) it paints what the full image would.
    const fromPreview = chooseLevel(preview.levels, 4.2);
    const fromFull = chooseLevel(fullImage.levels, 4.2);
    expect(fromPreview.step).toBe(fromFull.step);
    expect(Array.from(fromPreview.data)).toEqual(Array.from(fromFull.data));
    // Zoomed in, the preview is the best there is until the full image arrives.
    expect(chooseLevel(preview.levels, 1).step).toBe(PREVIEW_STEP);
  });

  it('upgrading keeps the view and a preset in use, and leaves a dragged window alone', () => {
    const controller = new ViewerController();
    controller.setScreen({ width: 400, height: 300 });
    controller.setImage(preview);
    controller.zoomBy(2, screenPoint(10, 10));
    const view = controller.getState().view;
    controller.upgradeImage(fullImage);
    expect(controller.getState().view).toEqual(view);
    expect(controller.getState().presetId).toBe('default');
    expect(controller.getState().voi).toEqual(controller.presets[0]?.voi);

    controller.setImage(preview);
    controller.dragWindow(30, -20);
    const dragged = controller.getState().voi;
    controller.upgradeImage(fullImage);
    expect(controller.getState().voi).toEqual(dragged);
    expect(controller.getState().presetId).toBe('custom');
  });
});
