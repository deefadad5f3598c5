import type { AnalyticsResponse } from '@cxr/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { downloadAnalyticsCsv } from './analytics-api.js';
import { disputeChart, presetChart, readingTimeChart, scoreChart, wlChart } from './charts.js';
import {
  disputeData,
  formatDuration,
  formatRatio,
  presetCounts,
  readersByTime,
  readingTimeData,
  scoreData,
  wlData,
} from './figures.js';
import { PlotFigure } from './PlotFigure.js';
import type { SessionAnalytics } from './use-session-analytics.js';
import './analytics.css';

/**
 * The moderator's reading analytics (R-ANALYTICS-5..8), in a wide dialog over the workspace:
 * reading time per reader and scan, survival and F1 per reader, the window/level of
 * surviving vs rejected boxes, disputes per label, each as a plot with the numbers in a table
 * beside it (the tables are what a screen reader and the tests read), and the CSV.
 */
export function AnalyticsView({
  token,
  sessionId,
  analytics,
  onClose,
}: {
  token: string;
  sessionId: string;
  analytics: SessionAnalytics;
  onClose: () => void;
}) {
  const { data, error, loading, reload } = analytics;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="overlay" role="dialog" aria-label="Reading analytics">
      <div
        className="overlay-card analytics-card"
        data-testid="analytics-view"
        data-loaded={data !== undefined}
        data-scope={data?.session.scope ?? ''}
        data-generated-at={data?.session.generatedAt ?? ''}
      >
        <header className="analytics-header">
          <h2>Reading analytics{data ? ` · ${data.session.name}` : ''}</h2>
          <span className="muted" data-testid="analytics-updated">
            {data ? `updated ${new Date(data.session.generatedAt).toLocaleTimeString()}` : 'loading…'}
            {loading && data ? ' · refreshing' : ''}
          </span>
          <button
            type="button"
            className="ghost"
            onClick={reload}
            data-testid="analytics-refresh"
            title="Reload"
          >
            ↻
          </button>
          <CsvButton token={token} sessionId={sessionId} />
          <button type="button" onClick={onClose} data-testid="analytics-close">
            Close
          </button>
        </header>
        {error && (
          <p className="error" role="alert" data-testid="analytics-error">
            {error}
          </p>
        )}
        {data && <AnalyticsBody data={data} />}
      </div>
    </div>
  );
}

function CsvButton({ token, sessionId }: { token: string; sessionId: string }) {
  const [state, setState] = useState<{ busy: boolean; error?: string; bytes?: number }>({ busy: false });
  return (
    <>
      <button
        type="button"
        data-testid="analytics-csv"
        disabled={state.busy}
        data-bytes={state.bytes ?? ''}
        title="One line per reader and scan (pandas.read_csv reads it as is)"
        onClick={() => {
          setState({ busy: true });
          downloadAnalyticsCsv(token, sessionId).then(
            (bytes) => setState({ busy: false, bytes }),
            (e: unknown) =>
              setState({ busy: false, error: e instanceof Error ? e.message : 'download failed' }),
          );
        }}
      >
        analytics.csv
      </button>
      {state.error && (
        <span className="error" role="alert" data-testid="analytics-csv-error">
          {state.error}
        </span>
      )}
    </>
  );
}

function AnalyticsBody({ data }: { data: AnalyticsResponse }) {
  const readers = useMemo(() => readersByTime(data), [data]);
  const names = readers.map((r) => r.username);
  const time = useMemo(() => readingTimeData(data), [data]);
  const scores = useMemo(() => scoreData(data), [data]);
  const wl = useMemo(() => wlData(data), [data]);
  const presets = useMemo(() => presetCounts(wl), [wl]);
  const disputes = useMemo(() => disputeData(data), [data]);
  const nameKey = names.join('\u0000');
  // biome-ignore lint/correctness/useExhaustiveDependencies: nameKey stands for names
  const timePlot = useCallback((w: number) => readingTimeChart(time, names, w), [time, nameKey]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: nameKey stands for names
  const scorePlot = useCallback((w: number) => scoreChart(scores, names, w), [scores, nameKey]);
  const wlPlot = useCallback((w: number) => wlChart(wl, w), [wl]);
  const presetPlot = useCallback((w: number) => presetChart(presets, w), [presets]);
  const disputePlot = useCallback((w: number) => disputeChart(disputes, w), [disputes]);
  const nameOf = (id: string) => data.readers.find((r) => r.readerId === id)?.username ?? id;

  return (
    <div className="analytics-grid">
      <section className="analytics-section" aria-labelledby="an-time">
        <h3 id="an-time">Reading time per reader and scan</h3>
        <PlotFigure plot={timePlot} name="reading-time" points={time.length} empty="No reading time yet." />
      </section>
      <section className="analytics-section" aria-labelledby="an-score">
        <h3 id="an-score">Survival and F1 per reader</h3>
        <PlotFigure
          plot={scorePlot}
          name="scores"
          points={scores.length}
          empty="Survival and F1 need a locked scan with reader findings."
        />
      </section>

      <section className="analytics-section wide" aria-labelledby="an-readers">
        <h3 id="an-readers">Readers</h3>
        <div className="grid-scroll">
          <table className="grid" data-testid="analytics-readers">
            <thead>
              <tr>
                <th scope="col">Reader</th>
                <th scope="col">Scans</th>
                <th
                  scope="col"
                  title="Active reading time: scan open, window focused, input in the last 30 s"
                >
                  Active
                </th>
                <th scope="col">Median / scan</th>
                <th scope="col">p90 / scan</th>
                <th scope="col" title="From opening a scan to the first finding (median)">
                  First finding
                </th>
                <th scope="col">Findings</th>
                <th scope="col">Survived</th>
                <th scope="col">Survival</th>
                <th scope="col">Precision</th>
                <th scope="col">Recall</th>
                <th scope="col">F1</th>
                <th scope="col" title="Share of the six global labels agreeing with the consensus">
                  Global agr.
                </th>
              </tr>
            </thead>
            <tbody>
              {readers.map((r, i) => (
                <tr
                  key={r.readerId}
                  data-testid="analytics-reader"
                  data-reader-id={r.readerId}
                  data-username={r.username}
                  data-rank={i + 1}
                  data-active-ms={r.activeMsTotal}
                  data-findings={r.findings}
                  data-survived={r.survived}
                  data-survival={r.survival ?? ''}
                  data-f1={r.f1 ?? ''}
                >
                  <th scope="row">{r.username}</th>
                  <td>{r.scansRead}</td>
                  <td>{formatDuration(r.activeMsTotal)}</td>
                  <td>{formatDuration(r.readingMsMedian)}</td>
                  <td>{formatDuration(r.readingMsP90)}</td>
                  <td>{formatDuration(r.timeToFirstFindingMsMedian)}</td>
                  <td>{r.findings}</td>
                  <td>{r.survived}</td>
                  <td>{formatRatio(r.survival)}</td>
                  <td>{formatRatio(r.precision)}</td>
                  <td>{formatRatio(r.recall)}</td>
                  <td>{formatRatio(r.f1)}</td>
                  <td>{formatRatio(r.globalAgreement)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="analytics-section" aria-labelledby="an-wl">
        <h3 id="an-wl">Window/level of surviving vs rejected boxes</h3>
        <PlotFigure
          plot={wlPlot}
          name="wl"
          points={wl.length}
          empty="Shown once a scan with recorded reader boxes is locked."
        />
        <PlotFigure plot={presetPlot} name="presets" points={presets.length} empty="" />
      </section>
      <section className="analytics-section" aria-labelledby="an-wl-list">
        <h3 id="an-wl-list">Boxes and the view they were drawn in</h3>
        <div className="grid-scroll">
          <table className="grid" data-testid="analytics-wl">
            <thead>
              <tr>
                <th scope="col">Reader</th>
                <th scope="col">Scan</th>
                <th scope="col">Label</th>
                <th scope="col">Preset</th>
                <th scope="col">W / L</th>
                <th scope="col">Zoom</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {wl.map((p) => (
                <tr
                  key={`${p.readerId}:${p.findingId}`}
                  data-testid="analytics-wl-point"
                  data-reader-id={p.readerId}
                  data-finding-id={p.findingId}
                  data-preset={p.preset}
                  data-outcome={p.outcome}
                  data-window-center={p.windowCenter}
                  data-window-width={p.windowWidth}
                >
                  <th scope="row">{p.reader}</th>
                  <td>{p.scanId}</td>
                  <td>{p.label}</td>
                  <td>{p.preset}</td>
                  <td>
                    {Math.round(p.windowWidth)} / {Math.round(p.windowCenter)}
                    {p.invert ? ' (inverted)' : ''}
                  </td>
                  <td>{Math.round(p.zoom * 100)}%</td>
                  <td className={p.outcome === 'survived' ? 'ok' : 'analytics-rejected'}>{p.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="analytics-section" aria-labelledby="an-disputes">
        <h3 id="an-disputes">Disputes per label</h3>
        <PlotFigure plot={disputePlot} name="disputes" points={disputes.length} empty="No votes yet." />
      </section>
      <section className="analytics-section" aria-labelledby="an-scans">
        <h3 id="an-scans">Scans</h3>
        <div className="grid-scroll">
          <table className="grid" data-testid="analytics-scans">
            <thead>
              <tr>
                <th scope="col">Scan</th>
                <th scope="col">State</th>
                <th scope="col">Active (all readers)</th>
                <th scope="col">Blind</th>
                <th scope="col">Reveal → lock</th>
                <th scope="col">Votes</th>
                <th scope="col">Disputed</th>
                <th scope="col">Consensus boxes</th>
              </tr>
            </thead>
            <tbody>
              {data.scans.map((s) => (
                <tr
                  key={s.scanId}
                  data-testid="analytics-scan"
                  data-scan-id={s.scanId}
                  data-locked={s.locked}
                  data-active-ms={s.activeMs}
                  data-votes={s.votes}
                  data-disputed={s.disputedVotes}
                >
                  <th scope="row">{s.scanId}</th>
                  <td>{s.locked ? 'locked' : 'open'}</td>
                  <td>{formatDuration(s.activeMs)}</td>
                  <td>{formatDuration(s.blindMs)}</td>
                  <td>{formatDuration(s.revealToLockMs)}</td>
                  <td>{s.votes}</td>
                  <td>{s.disputedVotes}</td>
                  <td>{s.consensusFindings ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <details>
          <summary>Per reader and scan</summary>
          <div className="grid-scroll">
            <table className="grid" data-testid="analytics-rows">
              <thead>
                <tr>
                  <th scope="col">Reader</th>
                  <th scope="col">Scan</th>
                  <th scope="col">Active</th>
                  <th scope="col">Findings</th>
                  <th scope="col">Survived</th>
                  <th scope="col">F1</th>
                  <th scope="col">Tools</th>
                </tr>
              </thead>
              <tbody>
                {data.rows.map((r) => (
                  <tr
                    key={`${r.readerId}:${r.scanId}`}
                    data-testid="analytics-row"
                    data-reader-id={r.readerId}
                    data-scan-id={r.scanId}
                    data-active-ms={r.activeMs}
                    data-findings={r.findings}
                    data-survived={r.survived ?? ''}
                    data-f1={r.f1 ?? ''}
                  >
                    <th scope="row">{nameOf(r.readerId)}</th>
                    <td>{r.scanId}</td>
                    <td>{formatDuration(r.activeMs)}</td>
                    <td>{r.findings}</td>
                    <td>{r.survived ?? '—'}</td>
                    <td>{formatRatio(r.f1)}</td>
                    <td className="analytics-tools">{r.tools || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </section>
    </div>
  );
}
