import { fmt, list, median, p95, ratio } from './stats.js';
import type { Click, Floors, Walks } from './walk.js';
import type { WindowLevel } from './window-level.js';

/** Issue 24's targets: first image and full fidelity from the click; W/L drag frame p95. */
export const TARGETS = { firstMs: 100, fullMs: 250, wlP95Ms: 8 } as const;

const verdict = (value: number, target: number) => (value < target ? 'met' : 'NOT MET');
const cell = (s: string, width: number) => s.padStart(width);

interface Row {
  readonly label: string;
  readonly first: number[];
  readonly full: number[];
}

/**
 * `fromSecond`: without each walk's first click, which nothing can have prefetched (the page
 * was loaded on the last scan of the worklist): the clicks prefetch is meant for.
 */
function pool(walks: readonly Walks[], prefetch: boolean, which: 'cold' | 'warm', fromSecond = false): Row {
  const clicks: Click[] = walks
    .filter((w) => w.prefetch === prefetch)
    .flatMap((w) => (fromSecond ? w[which].slice(1) : w[which]));
  return {
    label: `${which}, prefetch ${prefetch ? 'on' : 'off'}${fromSecond ? ', 2nd+' : ''}`,
    first: clicks.map((c) => c.firstMs),
    full: clicks.map((c) => c.fullMs),
  };
}

/** The walk table: click -> first image and -> full fidelity, median and p95, against the targets. */
export function printWalks(
  walks: readonly Walks[],
  floors: Floors,
  scans: number,
  dwellMs: number,
): string[] {
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  const rows = [
    pool(walks, true, 'cold'),
    pool(walks, false, 'cold'),
    pool(walks, true, 'warm'),
    pool(walks, false, 'warm'),
  ];
  say(
    `\nworklist walk: ${scans} scans x ${walks.length / 2} walk(s) per mode, dwell ${dwellMs} ms after full fidelity; ` +
      'times from the click event in the page (ms)',
  );
  say(
    `${''.padEnd(26)}${cell('first image', 30)}${cell('full fidelity', 32)}\n` +
      `${''.padEnd(26)}${cell('median', 9)}${cell('p95', 9)}${cell(`<${TARGETS.firstMs} p95`, 12)}` +
      `${cell('median', 10)}${cell('p95', 9)}${cell(`<${TARGETS.fullMs} p95`, 13)}`,
  );
  for (const r of [...rows, pool(walks, true, 'cold', true), pool(walks, true, 'warm', true)]) {
    const f95 = p95(r.first);
    const u95 = p95(r.full);
    say(
      `${r.label.padEnd(26)}${cell(median(r.first).toFixed(1), 9)}${cell(f95.toFixed(1), 9)}` +
        `${cell(verdict(f95, TARGETS.firstMs), 12)}${cell(median(r.full).toFixed(1), 10)}${cell(u95.toFixed(1), 9)}` +
        `${cell(verdict(u95, TARGETS.fullMs), 13)}`,
    );
  }
  for (const r of rows) say(`  ${r.label}: first ${list(r.first)}; full ${list(r.full)}`);
  const [coldOn, coldOff, warmOn, warmOff] = rows as [Row, Row, Row, Row];
  say(
    `ratio prefetch off / on (medians): cold first ${ratio(median(coldOff.first), median(coldOn.first))}, ` +
      `full ${ratio(median(coldOff.full), median(coldOn.full))}; warm first ` +
      `${ratio(median(warmOff.first), median(warmOn.first))}, full ${ratio(median(warmOff.full), median(warmOn.full))}`,
  );
  const fp = median(floors.preview);
  const ff = median(floors.full);
  say(
    `floor, same run (fetch from the server + one putImageData, median of ${floors.full.length}): preview ` +
      `${fmt(fp)}, full file ${fmt(ff)}`,
  );
  say(
    `ratio to floor (medians): cold off first / preview floor ${ratio(median(coldOff.first), fp)}, ` +
      `full / file floor ${ratio(median(coldOff.full), ff)}; cold on first / preview floor ` +
      `${ratio(median(coldOn.first), fp)}, full / file floor ${ratio(median(coldOn.full), ff)}`,
  );
  const allClicks = walks.flatMap((w) => [...w.cold, ...w.warm]);
  say(
    `click -> image request (click time minus the app's own request-to-paint), median ` +
      `${fmt(median(allClicks.map((c) => c.firstMs - c.appFirstMs)))}`,
  );
  return lines;
}

export function printWindowLevel(wl: WindowLevel): string {
  const w95 = p95(wl.times);
  const f95 = p95(wl.floor);
  const line =
    `W/L drag ${wl.times.length} frames, full image on a ${wl.size} canvas: p50 ${fmt(median(wl.times))}, ` +
    `p95 ${fmt(w95)} (target p95 < ${TARGETS.wlP95Ms} ms: ${verdict(w95, TARGETS.wlP95Ms)}); baseline ` +
    `putImageData p50 ${fmt(median(wl.floor))}, p95 ${fmt(f95)}; p95 ratio ${ratio(w95, f95)}`;
  console.log(line);
  return line;
}
