/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { freshPage, openScan } from './browser.js';
import type { Setup } from './setup.js';

const FRAMES = 200;

export interface WindowLevel {
  readonly times: number[];
  readonly floor: number[];
  readonly size: string;
}

/**
 * Window/level drag on the full image: the renderer's own per-frame time (LUT + resample +
 * put), one frame awaited per mouse move. Baseline in the same page: `putImageData` of a
 * precomputed frame of the same backing size (the blit every frame has to do anyway).
 */
export async function windowLevel(
  browser: Browser,
  setup: Setup,
  viewport: { width: number; height: number },
): Promise<WindowLevel> {
  const native = setup.openSession.scans[0];
  if (!native) throw new Error('no native scan');
  const { context, page } = await freshPage(browser, setup, { viewport });
  await openScan(page, setup, setup.openSession.id, native.id);
  const box = await page.locator('[data-testid="viewer"]').boundingBox();
  if (!box) throw new Error('no viewer');
  await page.click('[data-testid="tool-wl"]');
  const frames = async () => Number(await page.getAttribute('[data-testid="image-canvas"]', 'data-frames'));
  const start = await frames();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= FRAMES; i++) {
    await page.mouse.move(box.x + box.width / 2 + (i % 40) * 3, box.y + box.height / 2 + (i % 25) * 2);
    // One frame per move: wait until the renderer has drawn it.
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="image-canvas"]')?.getAttribute('data-frames')) >= n,
      start + i,
    );
  }
  await page.mouse.up();
  const result = await page.evaluate((count) => {
    const canvas = document.querySelector('[data-testid="image-canvas"]') as
      | (HTMLCanvasElement & { frameTimes?: number[] })
      | null;
    if (!canvas) throw new Error('no canvas');
    const times = (canvas.frameTimes ?? []).slice(-count);
    const blit = document.createElement('canvas');
    blit.width = canvas.width;
    blit.height = canvas.height;
    const ctx = blit.getContext('2d');
    const frame = new ImageData(canvas.width, canvas.height);
    frame.data.fill(128);
    const floor: number[] = [];
    for (let i = 0; i < count; i++) {
      // One byte changes per frame so nothing can be skipped as unchanged.
      frame.data[i * 4] = i & 0xff;
      const t = performance.now();
      ctx?.putImageData(frame, 0, 0);
      floor.push(performance.now() - t);
    }
    return { times, floor, size: `${canvas.width}x${canvas.height}` };
  }, FRAMES);
  await context.close();
  return result;
}
