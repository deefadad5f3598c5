import type { Page } from '@playwright/test';
import type { AdminApi } from '../fixtures/api.js';
import {
  EXPLICIT_LE,
  JPEG_LS_LOSSLESS,
  KNOWN_BLOCK,
  expectedGrey,
  jpegLsFrame,
  syntheticChest,
  writeDicom,
} from '../fixtures/dicom.js';
import { type Panel, expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * The viewer on a 3000 x 2800, 12-bit-in-16 MONOCHROME1 image (junk in the high bits),
 * imported through the server's DICOM upload and served by its `/dicom` route: the first paint
 * is correct (masking, window, inversion) for native and JPEG-LS, and dragging window/level
 * draws frames that change the picture. Timings are measured by `bench/viewer-bench.ts`, not
 * here.
 */

const image = syntheticChest();
let made = 0;

/** The red channel of the canvas at an image pixel. */
async function greyAt(page: Page, reading: ReadingPage, x: number, y: number): Promise<number> {
  const p = await reading.imageToPage(x, y);
  const canvas = await page.getByTestId('image-canvas').boundingBox();
  if (!canvas) throw new Error('no canvas');
  return page.getByTestId('image-canvas').evaluate(
    (el, at) => {
      const c = el as HTMLCanvasElement;
      const ratio = c.width / c.getBoundingClientRect().width;
      const data = c
        .getContext('2d')
        ?.getImageData(Math.floor(at.x * ratio), Math.floor(at.y * ratio), 1, 1).data;
      return data?.[0] ?? -1;
    },
    { x: p.x - canvas.x, y: p.y - canvas.y },
  );
}

/**
 * A session of its own around one imported file. The server stores files by content, so each
 * file gets a few unique pixel values in its bottom-right corner (real 12-bit values: JPEG-LS
 * drops the junk high bits), far from the block the specs check.
 */
async function sessionWithFile(
  admin: AdminApi,
  panel: Panel,
  syntax: string,
): Promise<{ sessionId: string; scanId: string }> {
  const pixels = image.pixels.slice();
  const end = pixels.length - 1;
  pixels[end] = ++made & 0xfff;
  pixels[end - 1] = Date.now() & 0xfff;
  pixels[end - 2] = Math.floor(Math.random() * 0x1000);
  pixels[end - 3] = Math.floor(Math.random() * 0x1000);
  const unique = { ...image, pixels };
  const frame = syntax === EXPLICIT_LE ? undefined : await jpegLsFrame(unique);
  const bytes = writeDicom(unique, syntax, frame);
  const scan = await admin.importDicom(bytes, `viewer-${Date.now().toString(36)}-${made}.dcm`);
  expect(scan).toMatchObject({ rows: image.rows, columns: image.columns });
  const sessionId = await admin.createSession(
    `viewer ${scan.id}`,
    panel.moderator.id,
    [panel.readerA.id],
    [scan.id],
  );
  return { sessionId, scanId: scan.id };
}

for (const variant of [
  { name: 'native', syntax: EXPLICIT_LE },
  { name: 'JPEG-LS', syntax: JPEG_LS_LOSSLESS },
] as const) {
  test(`${variant.name}: the first paint of an imported 3000 x 2800 file is correct`, async ({
    page,
    admin,
    panel,
  }) => {
    const { sessionId, scanId } = await sessionWithFile(admin, panel, variant.syntax);
    const reading = new ReadingPage(page);
    await reading.login(panel.readerA.username, panel.readerA.password);
    await reading.open(sessionId, scanId);
    await expect(reading.viewer).toHaveAttribute('data-image-state', 'ready');
    await expect(reading.viewer).toHaveAttribute('data-first-paint-ms', /\d/);
    // Masked to 12 bits, windowed by the file's window, inverted for MONOCHROME1: whether the
    // first paint was the server's preview or the full image, and again once the full one is in.
    const centre = KNOWN_BLOCK.size / 2;
    expect(await greyAt(page, reading, centre, centre)).toBe(expectedGrey(image, KNOWN_BLOCK.value));
    await expect(reading.viewer).toHaveAttribute('data-full-paint-ms', /\d/);
    const first = Number(await reading.viewer.getAttribute('data-first-paint-ms'));
    const full = Number(await reading.viewer.getAttribute('data-full-paint-ms'));
    expect(first).toBeLessThanOrEqual(full);
    expect(await greyAt(page, reading, centre, centre)).toBe(expectedGrey(image, KNOWN_BLOCK.value));
  });
}

test('dragging window/level draws frames that change the picture', async ({ page, panel }) => {
  const reading = new ReadingPage(page);
  await reading.login(panel.readerB.username, panel.readerB.password);
  await reading.open(panel.sessionId, panel.scanId);
  await expect(reading.viewer).toHaveAttribute('data-image-state', 'ready');
  const canvas = page.getByTestId('image-canvas');
  const box = await reading.viewer.boundingBox();
  if (!box) throw new Error('no viewer');
  const at = { x: panel.columns / 2, y: panel.rows / 2 };
  const greyBefore = await greyAt(page, reading, at.x, at.y);
  const readoutBefore = await page.getByTestId('wl-readout').textContent();
  const framesBefore = Number(await canvas.getAttribute('data-frames'));
  await page.getByTestId('tool-wl').click();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(box.x + box.width / 2 + i * 12, box.y + box.height / 2 + i * 8);
    // One frame per move: wait for the renderer to draw it (no sleeping).
    await expect
      .poll(async () => Number(await canvas.getAttribute('data-frames')))
      .toBeGreaterThanOrEqual(framesBefore + i);
  }
  await page.mouse.up();
  await expect(page.getByTestId('wl-readout')).not.toHaveText(readoutBefore ?? '');
  expect(await greyAt(page, reading, at.x, at.y)).not.toBe(greyBefore);
});
