import type { Browser } from 'playwright-core';
import { fetchAndPaintFloor, freshPage, openScan } from './browser.js';
import type { BenchScan, Setup } from './setup.js';

export interface DirectOpen {
  readonly scan: BenchScan;
  /** The app's own `data-first-paint-ms`: from the scan's image request, not from a click. */
  readonly viewer: number[];
  readonly full: number[];
  readonly floor: number[];
  readonly parts: { fetchMs: number; decodeMs: number; prepareMs: number }[];
}

/**
 * Opening a scan by URL, each run in a fresh context, after one uncounted warm-up run (server
 * page cache, JIT). The app's own attributes are read: request to first and to full paint.
 */
export async function directOpens(browser: Browser, setup: Setup, runs: number): Promise<DirectOpen[]> {
  const out: DirectOpen[] = [];
  const sessionId = setup.openSession.id;
  for (const scan of setup.openSession.scans) {
    const result: DirectOpen = { scan, viewer: [], full: [], floor: [], parts: [] };
    for (let run = -1; run < runs; run++) {
      const { context, page } = await freshPage(browser, setup);
      await openScan(page, setup, sessionId, scan.id);
      const attr = (name: string) => page.getAttribute('[data-testid="viewer"]', name);
      const paint = Number(await attr('data-first-paint-ms'));
      const fullPaint = Number(await attr('data-full-paint-ms'));
      const timings: unknown = JSON.parse((await attr('data-decode-timings')) ?? '{}');
      await context.close();
      const other = await freshPage(browser, setup);
      await openScan(other.page, setup, sessionId, scan.id);
      // Same page state as the viewer had (app loaded, file fetched once).
      const floor = await fetchAndPaintFloor(
        other.page,
        `/api/scans/${scan.id}/dicom?cold=${run}`,
        setup.auth.token,
      );
      await other.context.close();
      if (run < 0) continue;
      result.viewer.push(paint);
      result.full.push(fullPaint);
      result.floor.push(floor);
      if (typeof timings === 'object' && timings !== null) {
        const t = timings as Record<string, unknown>;
        result.parts.push({
          fetchMs: Number(t.fetchMs),
          decodeMs: Number(t.decodeMs),
          prepareMs: Number(t.prepareMs),
        });
      }
    }
    out.push(result);
  }
  return out;
}
