import type { AnalyticsResponse } from '@cxr/shared';
import { formatDuration, formatRatio, type readersByTime, type wlData } from './figures.js';

/**
 * The numbers behind the analytics plots, one table each: what a screen reader and the specs
 * read (docs/UI.md lists their test ids and attributes).
 */

export function ReadersTable({ readers }: { readers: ReturnType<typeof readersByTime> }) {
  return (
    <table className="grid" data-testid="analytics-readers">
      <thead>
        <tr>
          <th scope="col">Reader</th>
          <th scope="col">Scans</th>
          <th scope="col" title="Active reading time: scan open, window focused, input in the last 30 s">
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
  );
}

export function WlTable({ points }: { points: ReturnType<typeof wlData> }) {
  return (
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
        {points.map((p) => (
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
  );
}

export function ScansTable({ scans }: { scans: AnalyticsResponse['scans'] }) {
  return (
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
        {scans.map((s) => (
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
  );
}

export function ReaderScanTable({
  rows,
  nameOf,
}: {
  rows: AnalyticsResponse['rows'];
  nameOf: (readerId: string) => string;
}) {
  return (
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
        {rows.map((r) => (
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
  );
}
