/**
 * Viewer benchmark in real Chromium (the system one, never downloaded), against a real server
 * on loopback with a throw-away data directory:
 *
 *   npm run bench:viewer -- [--scans 10] [--runs 7] [--walks 2] [--dwell 1500] [--no-build]
 *
 * For 3000 x 2800 12-bit-in-16 synthetic chests imported through the server:
 * - worklist walk (issue 24): one session of `--scans` distinct films plus a landing film at
 *   the end of the worklist; the reader's page is loaded on the landing film, then each film's
 *   worklist item is clicked in order, waiting for full fidelity and `--dwell` ms before the
 *   next click. Click -> first image and click -> full fidelity are timed in the page from the
 *   click event (bench/viewer/walk.ts). Cold: a fresh context, first visit of each scan; warm:
 *   the same walk again in the same page. Both with prefetch on and off
 *   (`localStorage['cxr.prefetch']`), `--walks` times each, modes alternating;
 * - direct open by URL (`--runs` fresh contexts per file, native and JPEG-LS): the app's own
 *   request-to-first/full paint (`data-first-paint-ms`, `data-full-paint-ms`);
 * - window/level drag frame time on the full image, p50/p95 over 200 frames.
 *
 * Each figure comes with a baseline from the same run, same browser, same bytes (fetch of the
 * file or preview from the same route + one putImageData; prefetch off against on; a bare
 * putImageData of the W/L canvas size), so ratios say what the viewer adds over the floor
 * rather than how fast this machine is. Results also go to bench/results/ as JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { freePort } from './load/proc.js';
import { ROOT, startServer } from './load/server.js';
import { reloads } from './viewer/browser.js';
import { directOpens } from './viewer/direct-open.js';
import { TARGETS, printWalks, printWindowLevel } from './viewer/report.js';
import { setUp, warmServer } from './viewer/setup.js';
import { fmt, list, median, ratio } from './viewer/stats.js';
import { type Walks, walkFloors, walks } from './viewer/walk.js';
import { windowLevel } from './viewer/window-level.js';

const { values: args } = parseArgs({
  options: {
    scans: { type: 'string', default: '10' },
    runs: { type: 'string', default: '7' },
    walks: { type: 'string', default: '2' },
    dwell: { type: 'string', default: '1500' },
    'no-build': { type: 'boolean', default: false },
  },
});
const SCANS = Math.max(2, Number(args.scans));
const RUNS = Math.max(1, Number(args.runs));
const WALKS = Math.max(1, Number(args.walks));
const DWELL_MS = Math.max(0, Number(args.dwell));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function buildClient(): void {
  console.log('building the client…');
  const r = spawnSync('npx', ['vite', 'build', 'client', '--logLevel', 'error'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('client build failed');
}

async function main(): Promise<void> {
  if (!args['no-build']) buildClient();
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cxr-viewer-bench-'));
  const server = await startServer(port, dataDir);
  let browser: Browser | undefined;
  try {
    console.log(`importing ${SCANS + 3} films…`);
    const setup = await setUp(`http://127.0.0.1:${port}`, SCANS);
    await warmServer(setup);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    console.log(`\nviewer bench: 3000 x 2800, 12 bits in 16, Chromium ${browser.version()}`);

    const walkResults: Walks[] = [];
    for (let w = 0; w < WALKS; w++) {
      // Alternating which mode goes first, so neither always gets the quieter machine.
      const order = w % 2 === 0 ? [true, false] : [false, true];
      for (const prefetch of order) walkResults.push(await walks(browser, setup, prefetch, DWELL_MS));
    }
    const floors = await walkFloors(browser, setup, 'walk');
    const walkLines = printWalks(walkResults, floors, SCANS, DWELL_MS);

    console.log(`\ndirect open by URL, ${RUNS} fresh contexts per file (app's own request -> paint):`);
    const opens = await directOpens(browser, setup, RUNS);
    for (const { scan, viewer, full, floor, parts } of opens) {
      console.log(
        `  ${scan.name.padEnd(7)} ${(scan.bytes / 1e6).toFixed(1)} MB: first paint median ${fmt(median(viewer))} ` +
          `${list(viewer)}, full ${fmt(median(full))} ${list(full)}; floor fetch+paint ${fmt(median(floor))}, ` +
          `first/floor ${ratio(median(viewer), median(floor))}`,
      );
      console.log(
        `    in the worker, full file (medians): fetch ${fmt(median(parts.map((p) => p.fetchMs)))}, decode ` +
          `${fmt(median(parts.map((p) => p.decodeMs)))}, prepare ${fmt(median(parts.map((p) => p.prepareMs)))}`,
      );
    }

    console.log('');
    const wl = [];
    for (const viewport of [
      { width: 1400, height: 900 },
      { width: 2560, height: 1440 },
    ]) {
      const result = await windowLevel(browser, setup, viewport);
      printWindowLevel(result);
      wl.push({ viewport, ...result });
    }

    if (reloads.count > 0)
      console.log(`page loads retried (client/dist was being rebuilt by someone else): ${reloads.count}`);
    const outDir = path.join(ROOT, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `viewer-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          scans: SCANS,
          runs: RUNS,
          dwellMs: DWELL_MS,
          targets: TARGETS,
          walks: walkResults,
          floors,
          opens,
          wl,
          walkLines,
        },
        null,
        2,
      ),
    );
    console.log(`\nresults: ${path.relative(ROOT, file)}`);
  } finally {
    await browser?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
