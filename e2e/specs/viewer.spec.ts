import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import {
  EXPLICIT_LE,
  JPEG_LS_LOSSLESS,
  KNOWN_BLOCK,
  expectedGrey,
  jpegLsFrame,
  syntheticChest,
  writeDicom,
} from '../fixtures/dicom.js';
import { expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * The viewer on a 3000 x 2800, 12-bit-in-16 MONOCHROME1 image (junk in the high bits): the
 * first paint is correct (masking, window, inversion), and the figures the issue asks for are
 * measured and printed: request-to-first-paint (native and JPEG-LS) and the render time of each
 * frame while window/level is dragged. The DICOM bytes are served by Playwright in place of
 * the server's `/dicom` route, so the spec does not depend on the import pipeline.
 */

const image = syntheticChest();
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/**
 * Serves the bytes from a loopback HTTP server and points the viewer's `/dicom` request at it,
 * so the browser's own network stack carries them (Playwright's `fulfill` would add a CDP copy
 * of 17 MB to the figure).
 */
async function serveDicom(page: Page, bytes: Buffer): Promise<() => Promise<void>> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/dicom', 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  await page.route('**/api/scans/*/dicom', (route) =>
    route.continue({ url: `http://127.0.0.1:${address.port}/scan.dcm` }),
  );
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

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

for (const variant of [
  { name: 'native', syntax: EXPLICIT_LE },
  { name: 'JPEG-LS', syntax: JPEG_LS_LOSSLESS },
] as const) {
  test(`${variant.name}: correct first paint and its time on 3000 x 2800`, async ({ browser, panel }) => {
    const frame = variant.syntax === EXPLICIT_LE ? undefined : await jpegLsFrame(image);
    const bytes = writeDicom(image, variant.syntax, frame);
    const context = await browser.newContext();
    const page = await context.newPage();
    const stop = await serveDicom(page, bytes);
    const reading = new ReadingPage(page);
    await reading.login(panel.readerA.username, panel.readerA.password);
    const firstPaints: number[] = [];
    for (let run = 0; run < 3; run++) {
      await reading.open(panel.sessionId, panel.scanId);
      await expect(reading.viewer).toHaveAttribute('data-image-state', 'ready');
      await expect(reading.viewer).toHaveAttribute('data-first-paint-ms', /\d/);
      firstPaints.push(Number(await reading.viewer.getAttribute('data-first-paint-ms')));
    }
    const timings = await reading.viewer.getAttribute('data-decode-timings');
    // Masked to 12 bits, windowed by the file's window, inverted for MONOCHROME1.
    const centre = KNOWN_BLOCK.size / 2;
    expect(await greyAt(page, reading, centre, centre)).toBe(expectedGrey(image, KNOWN_BLOCK.value));
    console.log(
      `[viewer] ${variant.name} ${bytes.length} bytes: request-to-first-paint ms ${firstPaints.map((v) => v.toFixed(0)).join(', ')} (${timings})`,
    );
    await context.close();
    await stop();
  });
}

test('window/level drag frame times on 3000 x 2800', async ({ browser, panel }) => {
  const bytes = writeDicom(image, EXPLICIT_LE);
  for (const viewport of [
    { width: 1400, height: 900 },
    { width: 2560, height: 1440 },
  ]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const stop = await serveDicom(page, bytes);
    const reading = new ReadingPage(page);
    await reading.login(panel.readerB.username, panel.readerB.password);
    await reading.open(panel.sessionId, panel.scanId);
    await expect(reading.viewer).toHaveAttribute('data-image-state', 'ready');
    const canvas = page.getByTestId('image-canvas');
    const box = await reading.viewer.boundingBox();
    if (!box) throw new Error('no viewer');
    const framesBefore = Number(await canvas.getAttribute('data-frames'));
    await page.getByTestId('tool-wl').click();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 200; i++) {
      await page.mouse.move(box.x + box.width / 2 + (i % 40) * 3, box.y + box.height / 2 + (i % 25) * 2);
      // One frame per move: wait for the renderer to draw it (no sleeping).
      await expect
        .poll(async () => Number(await canvas.getAttribute('data-frames')))
        .toBeGreaterThanOrEqual(framesBefore + i);
    }
    await page.mouse.up();
    const times = await canvas.evaluate((el) => [
      ...((el as HTMLCanvasElement & { frameTimes?: number[] }).frameTimes ?? []),
    ]);
    const drag = times.slice(-200);
    const p50 = quantile(drag, 0.5);
    const p95 = quantile(drag, 0.95);
    const size = await canvas.evaluate(
      (el) => `${(el as HTMLCanvasElement).width}x${(el as HTMLCanvasElement).height}`,
    );
    console.log(
      `[viewer] W/L drag, canvas ${size}: ${drag.length} frames, render p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms`,
    );
    expect(drag.length).toBe(200);
    // The target is p95 under 16 ms; leave headroom for slow CI machines.
    expect(p95).toBeLessThan(40);
    await context.close();
    await stop();
  }
});
