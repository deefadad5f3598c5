import { useCallback, useEffect, useState } from 'react';
import type { Member } from '../app/api.js';
import { type Agreement, fetchAgreement } from '../blind/blind-api.js';

/** null means kappa/alpha is 0/0: every reader answered alike (or too few ratings). */
export function formatStat(value: number | null): string {
  return value === null ? 'unanimous / undefined' : value.toFixed(3);
}

/**
 * The moderator's agreement dashboard after the reveal: Fleiss' kappa and Krippendorff's alpha
 * per global label over the session, the overall alpha, and the box agreement of the blind
 * readings (mean and pairwise F1 at IoU >= 0.4) for each scan. The readings are frozen once
 * revealed, so the numbers only change when asked again.
 */
export function AgreementDashboard({
  token,
  sessionId,
  currentScanId,
  members,
}: {
  token: string;
  sessionId: string;
  currentScanId: string;
  members: readonly Member[];
}) {
  const [agreement, setAgreement] = useState<Agreement | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = useCallback(() => {
    fetchAgreement(token, sessionId).then(
      (a) => {
        setAgreement(a);
        setError(undefined);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : 'cannot load the agreement'),
    );
  }, [token, sessionId]);
  useEffect(load, [load]);
  const nameOf = (id: string) => members.find((m) => m.id === id)?.username ?? id;
  const scan = agreement?.perScan.find((s) => s.scanId === currentScanId);

  return (
    <section
      className="panel"
      aria-labelledby="agreement-title"
      data-testid="agreement-dashboard"
      data-loaded={agreement !== undefined}
    >
      <h2 id="agreement-title">
        Agreement{' '}
        <button type="button" className="ghost" data-testid="agreement-refresh" onClick={load} title="Reload">
          ↻
        </button>
      </h2>
      {agreement && (
        <>
          <table className="grid stats">
            <thead>
              <tr>
                <th scope="col">Global label</th>
                <th scope="col" title="Fleiss' kappa over the session's scans">
                  κ
                </th>
                <th scope="col" title="Krippendorff's alpha (nominal)">
                  α
                </th>
              </tr>
            </thead>
            <tbody>
              {agreement.session.globals.perLabel.map((l) => (
                <tr
                  key={l.label}
                  data-testid="agreement-label"
                  data-label={l.label}
                  data-kappa={l.kappa ?? 'null'}
                  data-alpha={l.alpha ?? 'null'}
                >
                  <th scope="row">{l.label}</th>
                  <td className={l.kappa === null ? 'muted' : ''}>{formatStat(l.kappa)}</td>
                  <td className={l.alpha === null ? 'muted' : ''}>{formatStat(l.alpha)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p data-testid="agreement-alpha" data-alpha={agreement.session.globals.alpha ?? 'null'}>
            α over every label: {formatStat(agreement.session.globals.alpha)}
          </p>
          <h3>Boxes (F1 at IoU ≥ 0.4)</h3>
          <ul className="agreement-scans">
            {agreement.perScan.map((s) => (
              <li
                key={s.scanId}
                data-testid="agreement-f1"
                data-scan-id={s.scanId}
                data-mean-f1={s.boxes.meanF1 ?? 'null'}
                className={s.scanId === currentScanId ? 'current' : ''}
              >
                {s.scanId.length > 14 ? `${s.scanId.slice(0, 12)}…` : s.scanId}: mean F1{' '}
                {s.boxes.meanF1 === null ? 'undefined (no boxes)' : s.boxes.meanF1.toFixed(3)}
              </li>
            ))}
          </ul>
          {scan && scan.boxes.pairs.length > 0 && (
            <table className="grid stats">
              <thead>
                <tr>
                  <th scope="col">Readers (this scan)</th>
                  <th scope="col">F1</th>
                </tr>
              </thead>
              <tbody>
                {scan.boxes.pairs.map((p) => (
                  <tr
                    key={`${p.readerA}|${p.readerB}`}
                    data-testid="agreement-pair"
                    data-reader-a={p.readerA}
                    data-reader-b={p.readerB}
                    data-f1={p.f1 ?? 'null'}
                  >
                    <th scope="row">
                      {nameOf(p.readerA)} × {nameOf(p.readerB)}
                    </th>
                    <td className={p.f1 === null ? 'muted' : ''}>
                      {p.f1 === null ? 'undefined (no boxes)' : p.f1.toFixed(3)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
