import { useEffect, useState } from 'react';
import { type Api, ApiError, type ConsensusInfo } from '../app/api.js';

/**
 * Moderator controls for the scan. Locking is a command the server decides (it freezes the
 * document and stores the consensus record); the client only asks and shows the outcome.
 * Votes arrive with the live-panel issue.
 */
export function ConsensusPanel({
  api,
  sessionId,
  scanId,
  isModerator,
  locked,
  readingValid,
  onLocked,
}: {
  api: Api;
  sessionId: string;
  scanId: string;
  isModerator: boolean;
  locked: boolean;
  readingValid: boolean;
  onLocked: () => void;
}) {
  const [info, setInfo] = useState<ConsensusInfo | undefined>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!locked) {
      setInfo(undefined);
      return;
    }
    let live = true;
    api.consensus(sessionId, scanId).then(
      (c) => live && setInfo(c),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api, sessionId, scanId, locked]);

  const lock = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setInfo(await api.lock(sessionId, scanId));
      setConfirming(false);
      onLocked();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Locking failed');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="consensus-title" data-testid="consensus-panel">
      <h2 id="consensus-title">Consensus</h2>
      {locked ? (
        <p data-testid="consensus-locked">
          Locked consensus{info ? ` v${info.version}` : ''}
          {info && (
            <>
              <br />
              <code title="SHA-256 of the canonical consensus record" data-testid="consensus-hash">
                {info.sha256.slice(0, 16)}…
              </code>
            </>
          )}
        </p>
      ) : isModerator ? (
        confirming ? (
          <div className="confirm">
            <p>
              Lock this scan? Every panel member becomes read-only and the current boxes and labels become the
              consensus.
              {!readingValid && <strong> The reading does not satisfy the VinDr rules yet.</strong>}
            </p>
            <button
              type="button"
              className="danger"
              data-testid="lock-confirm"
              disabled={busy}
              onClick={lock}
            >
              {busy ? 'Locking…' : 'Lock consensus'}
            </button>
            <button type="button" className="ghost" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" data-testid="lock-scan" onClick={() => setConfirming(true)}>
            Lock consensus…
          </button>
        )
      ) : (
        <p className="muted">Open: the moderator locks the scan when the panel agrees.</p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
