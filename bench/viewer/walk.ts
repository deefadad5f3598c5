/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { fetchAndPaintFloor, freshPage, openScan } from './browser.js';
import type { Setup } from './setup.js';

/** One click on a worklist item, timed in the page from the click event. */
export interface Click {
  readonly scanId: string;
  /** Click -> the new viewer's first paint (preview, or the full image if it came first). */
  readonly firstMs: number;
  /** Click -> the full-resolution image painted. */
  readonly fullMs: number;
  /** The app's own `data-first-paint-ms` / `data-full-paint-ms` (from the scan change). */
  readonly appFirstMs: number;
  readonly appFullMs: number;
}

export interface Walks {
  readonly prefetch: boolean;
  /** First visit of each scan, in a fresh context. */
  readonly cold: Click[];
  /** The same walk again in the same page (HTTP cache warm; the decode cache as prefetch left it). */
  readonly warm: Click[];
}

interface Probe {
  clickAt?: number;
  firstAt?: number;
  fullAt?: number;
  old?: Element | null;
}

/**
 * Installed before the app: the click's time in the page (capture phase, before React sees it)
 * and a MutationObserver noting when a viewer other than the one on screen at the click gets
 * its paint attributes. The workspace is keyed by scan, so each scan has a viewer element of
 * its own; the observer runs in the microtask after the app writes the attribute, which the
 * app does right after the frame is drawn to the canvas.
 */
function instrument(): void {
  const probe: Probe = {};
  (window as unknown as { __walk: Probe }).__walk = probe;
  addEventListener(
    'click',
    () => {
      if (probe.clickAt === undefined) probe.clickAt = performance.now();
    },
    true,
  );
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      const el = r.target as Element;
      if (probe.clickAt === undefined || el === probe.old || el.getAttribute('data-testid') !== 'viewer')
        continue;
      if (r.attributeName === 'data-first-paint-ms' && probe.firstAt === undefined) probe.firstAt = now;
      if (r.attributeName === 'data-full-paint-ms' && probe.fullAt === undefined) probe.fullAt = now;
    }
  }).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ['data-first-paint-ms', 'data-full-paint-ms'],
  });
}

async function clickAndTime(page: Page, scanId: string): Promise<Click> {
  await page.evaluate(() => {
    const probe = (window as unknown as { __walk: Probe }).__walk;
    probe.clickAt = undefined;
    probe.firstAt = undefined;
    probe.fullAt = undefined;
    probe.old = document.querySelector('[data-testid="viewer"]');
  });
  await page.click(`[data-testid="worklist-item"][data-scan-id="${scanId}"]`);
  await page.waitForFunction(
    () => (window as unknown as { __walk: Probe }).__walk.fullAt !== undefined,
    undefined,
    { timeout: 30_000 },
  );
  const t = await page.evaluate(() => {
    const probe = (window as unknown as { __walk: Probe }).__walk;
    const viewer = document.querySelector('[data-testid="viewer"]');
    return {
      clickAt: probe.clickAt ?? Number.NaN,
      firstAt: probe.firstAt ?? probe.fullAt ?? Number.NaN,
      fullAt: probe.fullAt ?? Number.NaN,
      appFirst: Number(viewer?.getAttribute('data-first-paint-ms')),
      appFull: Number(viewer?.getAttribute('data-full-paint-ms')),
    };
  });
  return {
    scanId,
    firstMs: t.firstAt - t.clickAt,
    fullMs: t.fullAt - t.clickAt,
    appFirstMs: t.appFirst,
    appFullMs: t.appFull,
  };
}

async function walkOnce(page: Page, setup: Setup, dwellMs: number): Promise<Click[]> {
  const clicks: Click[] = [];
  for (const scan of setup.walkSession.walk) {
    clicks.push(await clickAndTime(page, scan.id));
    // A reader looks at the film before moving on: the time prefetch has to work in.
    await page.waitForTimeout(dwellMs);
  }
  return clicks;
}

/**
 * The worklist walk: load the page on the landing scan (last in the worklist), then click each
 * walk scan in order, waiting for full fidelity and then `dwellMs` before the next click;
 * then the same walk again in the same page.
 */
export async function walks(
  browser: Browser,
  setup: Setup,
  prefetch: boolean,
  dwellMs: number,
): Promise<Walks> {
  const { context, page } = await freshPage(browser, setup, { prefetch });
  await context.addInitScript(instrument);
  try {
    await openScan(page, setup, setup.walkSession.id, setup.walkSession.landing.id);
    const enabled = await page.evaluate(() => localStorage.getItem('cxr.prefetch'));
    if (enabled !== (prefetch ? 'on' : 'off')) throw new Error(`cxr.prefetch is ${enabled}`);
    await page.waitForTimeout(dwellMs);
    const cold = await walkOnce(page, setup, dwellMs);
    const warm = await walkOnce(page, setup, dwellMs);
    return { prefetch, cold, warm };
  } finally {
    await context.close();
  }
}

export interface Floors {
  /** Fetch of the quarter-resolution preview (about 1 MB) + one paint. */
  readonly preview: number[];
  /** Fetch of the full file (16.8 MB) + one paint. */
  readonly full: number[];
}

/** Per walk scan, in one fresh page with the app loaded: the transport-and-one-paint floors. */
export async function walkFloors(browser: Browser, setup: Setup, tag: string): Promise<Floors> {
  const { context, page } = await freshPage(browser, setup, { prefetch: false });
  try {
    await openScan(page, setup, setup.walkSession.id, setup.walkSession.landing.id);
    const floors: Floors = { preview: [], full: [] };
    for (const scan of setup.walkSession.walk) {
      const url = (part: string) => `/api/scans/${scan.id}/${part}?floor=${tag}`;
      floors.preview.push(await fetchAndPaintFloor(page, url('preview'), setup.auth.token));
      floors.full.push(await fetchAndPaintFloor(page, url('dicom'), setup.auth.token));
    }
    return floors;
  } finally {
    await context.close();
  }
}
