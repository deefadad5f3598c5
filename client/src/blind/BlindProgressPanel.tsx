import { useCallback, useEffect, useState } from 'react';
import { ApiError, type Member } from '../app/api.js';
import { type Progress, fetchProgress, reveal } from './blind-api.js';

/** How often the moderator's grid asks the server who is done (the blind stage has no push). */
const POLL_MS = 2000;

/**
 * The moderator's view of the blind stage: done / not done per reader and scan (nothing else
 * of the readings is visible before the reveal) and "Reveal readings" with a confirmation. The
 * reveal is allowed while someone is not done (a reader may be absent), but the confirmation
 * names who is not done so it is never an accident.
 */
export function BlindProgressPanel({
  token,
  sessionId,
  readerIds,
  members,
  scanIds,
  canReveal,
  onRevealed,
}: {
  token: string;
  sessionId: string;
  readerIds: readonly string[];
  members: readonly Member[];
  /** The session's scans in order. */
  scanIds: readonly string[];
  /** Only the session's moderator reveals; an admin watching sees the grid alone. */
  canReveal: boolean;
  onRevealed: () => void;
}) {
  const [progress, setProgress] = useState<Progress | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    fetchProgress(token, sessionId).then(
      (p) => {
        setProgress(p);
        setError(undefined);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : 'cannot load the progress'),
    );
  }, [token, sessionId]);
  useEffect(() => {
    load();
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const nameOf = (id: string) => members.find((m) => m.id === id)?.username ?? id;
  const doneOf = (scanId: string, userId: string) =>
    progress?.scans.find((s) => s.scanId === scanId)?.readers.find((r) => r.userId === userId)?.done ?? false;
  const missing = scanIds.flatMap((scanId) =>
    readerIds.filter((r) => !doneOf(scanId, r)).map((r) => ({ scanId, readerId: r })),
  );
  const cells = scanIds.length * readerIds.length;
  const doneCount = cells - missing.length;
  const notDoneReaders = [...new Set(missing.map((m) => m.readerId))];

  const doReveal = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await reveal(token, sessionId);
      setConfirming(false);
      onRevealed();
    } catch (e) {
      // Already revealed (another tab of the moderator): the session view catches up.
      if (e instanceof ApiError && e.status === 409) onRevealed();
      setError(e instanceof Error ? e.message : 'the reveal failed');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section
      className="panel"
      aria-labelledby="blind-progress-title"
      data-testid="blind-progress"
      data-done={doneCount}
      data-total={cells}
      data-loaded={progress !== undefined}
    >
      <h2 id="blind-progress-title">Blind readings</h2>
      <p className="muted">
        Readers read alone; you see only who is done. {doneCount}/{cells} readings done.
      </p>
      <div className="grid-scroll">
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Scan</th>
              {readerIds.map((r) => (
                <th key={r} scope="col" title={r}>
                  {nameOf(r)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {scanIds.map((scanId) => (
              <tr key={scanId}>
                <th scope="row" title={scanId}>
                  {scanId.length > 14 ? `${scanId.slice(0, 12)}…` : scanId}
                </th>
                {readerIds.map((r) => {
                  const done = doneOf(scanId, r);
                  return (
                    <td
                      key={r}
                      data-testid="blind-progress-cell"
                      data-scan-id={scanId}
                      data-user-id={r}
                      data-done={done}
                      className={done ? 'ok' : 'muted'}
                      title={`${nameOf(r)}: ${done ? 'done' : 'not done'}`}
                    >
                      {done ? '✓' : '·'}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!canReveal ? null : confirming ? (
        <div className="confirm" data-testid="reveal-confirmation">
          <p>
            Reveal the readings? They are frozen, fused into proposals and shown to the whole panel. This
            cannot be undone.
            {notDoneReaders.length > 0 && (
              <strong data-testid="reveal-warning" data-count={missing.length}>
                {' '}
                Not done yet: {notDoneReaders.map(nameOf).join(', ')} ({missing.length} reading
                {missing.length === 1 ? '' : 's'}).
              </strong>
            )}
          </p>
          <button
            type="button"
            className="danger"
            data-testid="reveal-confirm"
            disabled={busy}
            onClick={doReveal}
          >
            {busy ? 'Revealing…' : 'Reveal readings'}
          </button>
          <button
            type="button"
            className="ghost"
            data-testid="reveal-cancel"
            onClick={() => setConfirming(false)}
          >
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          data-testid="reveal-readings"
          title={
            notDoneReaders.length > 0
              ? `Allowed, but not everyone is done: ${notDoneReaders.map(nameOf).join(', ')}`
              : 'Every reader is done'
          }
          onClick={() => setConfirming(true)}
        >
          Reveal readings…
        </button>
      )}
      {error && (
        <p className="error" role="alert" data-testid="blind-error">
          {error}
        </p>
      )}
    </section>
  );
}
