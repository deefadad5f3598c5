import type { AnalyticsResponse } from '@cxr/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { downloadAnalyticsCsv } from './analytics-api.js';
import { disputeChart, presetChart, readingTimeChart, scoreChart, wlChart } from './charts.js';
import { disputeData, presetCounts, readersByTime, readingTimeData, scoreData, wlData } from './figures.js';
import { ReaderScanTable, ReadersTable, ScansTable, WlTable } from './AnalyticsTables.js';
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
          <ReadersTable readers={readers} />
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
          <WlTable points={wl} />
        </div>
      </section>

      <section className="analytics-section" aria-labelledby="an-disputes">
        <h3 id="an-disputes">Disputes per label</h3>
        <PlotFigure plot={disputePlot} name="disputes" points={disputes.length} empty="No votes yet." />
      </section>
      <section className="analytics-section" aria-labelledby="an-scans">
        <h3 id="an-scans">Scans</h3>
        <div className="grid-scroll">
          <ScansTable scans={data.scans} />
        </div>
        <details>
          <summary>Per reader and scan</summary>
          <div className="grid-scroll">
            <ReaderScanTable rows={data.rows} nameOf={nameOf} />
          </div>
        </details>
      </section>
    </div>
  );
}
