/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import type { Setup } from './setup.js';

export const VIEWPORT = { width: 1400, height: 900 } as const;

/**
 * A page in a fresh context (cold HTTP cache, new decode worker), signed in as the reader
 * through the app's own storage; `prefetch: false` sets the app's `cxr.prefetch = off` switch.
 */
export async function freshPage(
  browser: Browser,
  setup: Setup,
  options: { viewport?: { width: number; height: number }; prefetch?: boolean } = {},
) {
  const context = await browser.newContext({ viewport: options.viewport ?? VIEWPORT });
  await context.addInitScript(
    ({ auth, prefetch }) => {
      sessionStorage.setItem('cxr.auth', JSON.stringify(auth));
      localStorage.setItem('cxr.prefetch', prefetch ? 'on' : 'off');
    },
    { auth: setup.auth, prefetch: options.prefetch ?? true },
  );
  const page = await context.newPage();
  return { context, page };
}

/** Page loads that had to be retried because the app was not there (see `openScan`). */
export const reloads = { count: 0 };

/**
 * Opens a scan by URL and waits until the full-resolution image (not only its preview) is
 * painted. Others build client/dist in this tree while the bench runs (e2e runs rebuild it), and
 * the server serves whatever is there: a load that finds no app (404, or no viewer in 15 s) is
 * retried a few times and counted, rather than failing the bench.
 */
export async function openScan(page: Page, setup: Setup, sessionId: string, scanId: string): Promise<void> {
  const url = `${setup.base}/sessions/${sessionId}/scans/${scanId}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) {
      reloads.count++;
      await page.waitForTimeout(2000);
    }
    const response = await page.goto(url);
    if (!response?.ok()) continue;
    const viewer = await page.waitForSelector('[data-testid="viewer"]', { timeout: 15_000 }).then(
      () => true,
      () => false,
    );
    if (viewer) break;
  }
  try {
    await page.waitForSelector('[data-testid="viewer"][data-full-paint-ms]', { timeout: 30_000 });
  } catch (error) {
    // Say what the page was showing: a stuck load and a refused image need different fixes.
    const state = await page
      .evaluate(() => ({
        url: location.pathname,
        image:
          document.querySelector('[data-testid="viewer"]')?.getAttribute('data-image-state') ?? 'no viewer',
        text: (document.body.textContent ?? '').slice(0, 300),
      }))
      .catch(() => undefined);
    throw new Error(`scan ${scanId} never reached full paint: ${JSON.stringify(state)}`, { cause: error });
  }
}

/**
 * Floor for a paint: fetch the bytes from the same route (a new query string, so from the
 * server, not the HTTP cache) and paint one screen-sized frame sampled straight from them:
 * transport and one paint, no parsing, decoding or display chain.
 */
export async function fetchAndPaintFloor(page: Page, url: string, token: string): Promise<number> {
  return page.evaluate(
    async ({ url, token }) => {
      const viewer = document.querySelector('[data-testid="viewer"]');
      const width = viewer?.clientWidth || 900;
      const height = viewer?.clientHeight || 800;
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      document.body.appendChild(canvas);
      const started = performance.now();
      const bytes = new Uint8Array(
        await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer(),
      );
      const frame = new ImageData(width, height);
      const step = Math.max(1, Math.floor(bytes.length / (width * height)));
      for (let i = 0, j = 0; i < width * height; i++, j += step) {
        const v = bytes[j] ?? 0;
        frame.data[i * 4] = v;
        frame.data[i * 4 + 1] = v;
        frame.data[i * 4 + 2] = v;
        frame.data[i * 4 + 3] = 255;
      }
      canvas.getContext('2d')?.putImageData(frame, 0, 0);
      await new Promise((r) => requestAnimationFrame(() => r(undefined)));
      const elapsed = performance.now() - started;
      canvas.remove();
      return elapsed;
    },
    { url, token },
  );
}
