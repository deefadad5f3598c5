import * as Plot from '@observablehq/plot';
import type { DisputeDatum, PresetCount, ReadingTimeDatum, ScoreDatum, WlDatum } from './figures.js';

/**
 * The four analytics plots as Observable Plot options. Dark like the viewer: transparent
 * background on the card's near-black, the chrome's grey text, and the app's own accent,
 * ok, warn and danger shades; survived vs rejected are told apart by shape as well, so they
 * do not rely on red vs green alone.
 */

const TEXT = '#c9cdd2';
const GRID = '#2a2f36';
const OK = '#7fbf8e';
const DANGER = '#d77a7a';
const ACCENT = '#6fa8dc';
const WARN = '#d8b25c';

const base = (width: number): Plot.PlotOptions => ({
  width,
  style: { background: 'transparent', color: TEXT, fontSize: '12px', overflow: 'visible' },
  grid: false,
});

/**
 * Counts are whole numbers: ask for no more ticks than the largest bar has units, or small
 * counts get 0, 0.5, 1 printed as "0 0 1".
 */
function countTicks(values: readonly number[]): number {
  return Math.max(1, Math.min(5, Math.ceil(Math.max(0, ...values))));
}

/** Stacked bars: the length of each label's whole bar. */
function totals(data: readonly DisputeDatum[]): number[] {
  const byLabel = new Map<string, number>();
  for (const d of data) byLabel.set(d.label, (byLabel.get(d.label) ?? 0) + d.votes);
  return [...byLabel.values()];
}

/** Scans get a sequence of the app's cool colours; more scans than colours repeat. */
const SCAN_COLOURS = ['#6fa8dc', '#4cc9f0', '#a0c4ff', '#80ffdb', '#b5e48c', '#ffd166', '#e07be0', '#f4a261'];

/** Stacked bars: each reader's total reading time, split by scan. */
export function readingTimeChart(
  data: readonly ReadingTimeDatum[],
  readers: readonly string[],
  width: number,
) {
  const scans = [...new Set(data.map((d) => d.scanId))];
  return Plot.plot({
    ...base(width),
    height: 40 + 34 * Math.max(readers.length, 1),
    marginLeft: 110,
    x: { label: 'active reading time (s) →', grid: true, nice: true },
    y: { label: null, domain: [...readers] },
    color: {
      domain: scans,
      range: scans.map((_, i) => SCAN_COLOURS[i % SCAN_COLOURS.length] ?? ACCENT),
      legend: scans.length > 1,
    },
    marks: [
      Plot.barX(data, {
        x: 'seconds',
        y: 'reader',
        fill: 'scanId',
        inset: 0.5,
        title: (d: ReadingTimeDatum) => `${d.reader} · ${d.scanId}: ${d.seconds.toFixed(1)} s`,
      }),
      Plot.ruleX([0], { stroke: GRID }),
    ],
  });
}

/** Survival and F1 side by side for each reader, on a 0-100% axis. */
export function scoreChart(data: readonly ScoreDatum[], readers: readonly string[], width: number) {
  return Plot.plot({
    ...base(width),
    height: 40 + 44 * Math.max(readers.length, 1),
    marginLeft: 110,
    marginRight: 44,
    x: { label: 'share →', domain: [0, 1], tickFormat: '.0%', grid: true },
    y: { label: null, domain: ['survival', 'F1'], axis: null },
    fy: { label: null, domain: [...readers] },
    color: { domain: ['survival', 'F1'], range: [OK, ACCENT], legend: true },
    marks: [
      Plot.barX(data, {
        x: 'value',
        y: 'measure',
        fy: 'reader',
        fill: 'measure',
        title: (d: ScoreDatum) => `${d.reader} · ${d.measure}: ${Math.round(d.value * 100)}%`,
      }),
      Plot.text(data, {
        x: 'value',
        y: 'measure',
        fy: 'reader',
        text: (d: ScoreDatum) => `${Math.round(d.value * 100)}%`,
        textAnchor: 'start',
        dx: 4,
        fill: TEXT,
      }),
      Plot.ruleX([0], { stroke: GRID }),
    ],
  });
}

/** Window width against centre of every recorded finding, survived vs rejected. */
export function wlChart(data: readonly WlDatum[], width: number) {
  return Plot.plot({
    ...base(width),
    height: 260,
    marginLeft: 60,
    x: { label: 'window width →', grid: true, nice: true, zero: true },
    y: { label: '↑ window centre', grid: true, nice: true },
    color: { domain: ['survived', 'rejected'], range: [OK, DANGER], legend: true },
    symbol: { domain: ['survived', 'rejected'], range: ['circle', 'times'] },
    marks: [
      Plot.dot(data, {
        x: 'windowWidth',
        y: 'windowCenter',
        stroke: 'outcome',
        symbol: 'outcome',
        r: 6,
        strokeWidth: 2,
        title: (d: WlDatum) =>
          `${d.reader} · ${d.label} (${d.outcome})\nW ${Math.round(d.windowWidth)} / L ${Math.round(d.windowCenter)} · ${d.preset}`,
      }),
      Plot.text(data, {
        x: 'windowWidth',
        y: 'windowCenter',
        text: 'preset',
        dy: -12,
        fill: TEXT,
        fontSize: 11,
      }),
    ],
  });
}

/** Findings per preset, survived vs rejected (the same facts as the scatter, counted). */
export function presetChart(data: readonly PresetCount[], width: number) {
  const presets = [...new Set(data.map((d) => d.preset))];
  return Plot.plot({
    ...base(width),
    height: 40 + 30 * Math.max(presets.length, 1),
    marginLeft: 110,
    x: { label: 'findings →', grid: true, tickFormat: 'd', ticks: countTicks(data.map((d) => d.findings)) },
    y: { label: null, domain: presets },
    color: { domain: ['survived', 'rejected'], range: [OK, DANGER] },
    marks: [
      Plot.barX(data, {
        x: 'findings',
        y: 'preset',
        fill: 'outcome',
        inset: 0.5,
        title: (d: PresetCount) => `${d.preset}: ${d.findings} ${d.outcome}`,
      }),
      Plot.ruleX([0], { stroke: GRID }),
    ],
  });
}

/** Votes per label, disputed ones first in the bar. */
export function disputeChart(data: readonly DisputeDatum[], width: number) {
  const labels = [...new Set(data.map((d) => d.label))];
  return Plot.plot({
    ...base(width),
    height: 40 + 28 * Math.max(labels.length, 1),
    marginLeft: 150,
    x: { label: 'votes →', grid: true, tickFormat: 'd', ticks: countTicks(totals(data)) },
    y: { label: null, domain: labels },
    color: { domain: ['disputed', 'agreed'], range: [WARN, '#4d5966'], legend: true },
    marks: [
      Plot.barX(data, {
        x: 'votes',
        y: 'label',
        fill: 'kind',
        inset: 0.5,
        title: (d: DisputeDatum) => `${d.label}: ${d.votes} ${d.kind}`,
      }),
      Plot.ruleX([0], { stroke: GRID }),
    ],
  });
}
