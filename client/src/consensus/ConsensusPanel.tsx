import { useEffect, useState } from 'react';
import type { Api, ConsensusInfo } from '../app/api.js';
import type { CommandResult } from '../collab/panel-channel.js';
import { summarizeLock } from './lock-summary.js';
import { CommandError, useCommand } from './TargetConsensus.js';

/**
 * The scan's consensus state and the moderator's lock. Locking is a command the server decides
 * (it refuses while candidates are undecided unless told to reject them, freezes the document
 * and stores the consensus record); the client only asks and shows the answer or the refusal.
 */
export function ConsensusPanel({
  api,
  sessionId,
  scanId,
  isModerator,
  locked,
  readingValid,
  undecided,
  acceptedGlobals,
  nameOf,
  readersDone,
  readers,
  lock,
  onLocked,
  unlock,
}: {
  api: Api;
  sessionId: string;
  scanId: string;
  isModerator: boolean;
  locked: boolean;
  readingValid: boolean;
  undecided: number;
  /** Global labels the panel accepted so far; a lock needs one (R-LOCK-7). */
  acceptedGlobals: number;
  nameOf: (userId: string) => string;
  readersDone: number;
  readers: number;
  lock: (rejectUndecided: boolean) => Promise<CommandResult<{ version: number; sha256: string }>>;
  onLocked: () => void;
  /** Present for admins: reopen the scan with a written reason. */
  unlock?: (reason: string) => Promise<CommandResult<{ version: number }>>;
}) {
  const [info, setInfo] = useState<ConsensusInfo | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [rejectUndecided, setRejectUndecided] = useState(false);
  const [unlockReason, setUnlockReason] = useState('');
  const command = useCommand();

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

  const doLock = async () => {
    const ok = await command.run(async () => {
      const answer = await lock(rejectUndecided);
      if (answer.ok) setInfo({ version: answer.version, sha256: answer.sha256, record: undefined });
      return answer;
    });
    if (ok) {
      setConfirming(false);
      onLocked();
    }
  };

  return (
    <section className="panel" aria-labelledby="consensus-title" data-testid="consensus-panel">
      <h2 id="consensus-title">Consensus</h2>
      {!locked && (
        <p className="muted">
          <span data-testid="undecided-count" data-count={undecided}>
            {undecided} undecided
          </span>{' '}
          ·{' '}
          <span data-testid="readers-done" data-count={readersDone} data-total={readers}>
            readers done {readersDone}/{readers}
          </span>
        </p>
      )}
      {locked ? (
        <LockRecord info={info} nameOf={nameOf} />
      ) : isModerator ? (
        confirming ? (
          <div className="confirm">
            <p>
              Lock this scan? Every panel member becomes read-only and the decided boxes and labels become the
              consensus.
              {!readingValid && <strong> The reading does not satisfy the VinDr rules yet.</strong>}
            </p>
            {acceptedGlobals === 0 && (
              <p className="notice" role="alert" data-testid="lock-needs-global">
                Accept at least one global label first (“No finding” for a normal film): every VinDr-CXR image
                carries one.
              </p>
            )}
            <label className="check">
              <input
                type="checkbox"
                data-testid="lock-reject-undecided"
                checked={rejectUndecided}
                onChange={(e) => setRejectUndecided(e.target.checked)}
              />{' '}
              Reject the {undecided} undecided candidate(s)
            </label>
            <button
              type="button"
              className="danger"
              data-testid="lock-confirm"
              disabled={command.busy || acceptedGlobals === 0}
              onClick={doLock}
            >
              {command.busy ? 'Locking…' : 'Lock consensus'}
            </button>
            <button
              type="button"
              className="ghost"
              onClick={() => {
                setConfirming(false);
                command.clear();
              }}
            >
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
      {locked && unlock && (
        <form
          className="override"
          data-testid="unlock-form"
          onSubmit={(e) => {
            e.preventDefault();
            void command.run(() => unlock(unlockReason.trim())).then((ok) => ok && setUnlockReason(''));
          }}
        >
          <input
            data-testid="unlock-reason"
            placeholder="Why reopen this scan? (required)"
            value={unlockReason}
            onChange={(e) => setUnlockReason(e.target.value)}
          />
          <button
            type="submit"
            data-testid="unlock-scan"
            disabled={command.busy || unlockReason.trim().length < 3}
            title="Reopens the scan; the locked record stays and the next lock is a new version"
          >
            Unlock
          </button>
        </form>
      )}
      <CommandError error={command.error} />
    </section>
  );
}

/** The frozen consensus: version, who locked it and when, what it holds, and its hash. */
function LockRecord({ info, nameOf }: { info: ConsensusInfo | undefined; nameOf: (id: string) => string }) {
  const summary = summarizeLock(info?.record);
  return (
    <div data-testid="consensus-locked" data-version={info?.version}>
      <p>
        Locked consensus{info ? ` v${info.version}` : ''}
        {summary && (
          <span data-testid="consensus-locked-by">
            {' '}
            by {nameOf(summary.lockedBy)}, {new Date(summary.lockedAt).toLocaleString()}
          </span>
        )}
      </p>
      {summary && (
        <ul className="lock-record" data-testid="consensus-summary">
          <li
            data-testid="consensus-boxes"
            data-accepted={summary.acceptedBoxes}
            data-rejected={summary.rejectedBoxes}
          >
            {summary.acceptedBoxes} box(es) accepted, {summary.rejectedBoxes} rejected
            {summary.labels.length > 0 &&
              `: ${summary.labels.map((l) => `${l.label} ×${l.count}`).join(', ')}`}
          </li>
          <li data-testid="consensus-globals" data-labels={summary.acceptedGlobals.join('|')}>
            Global: {summary.acceptedGlobals.join(', ') || 'none'}
            {summary.rejectedGlobals > 0 && ` (${summary.rejectedGlobals} rejected)`}
          </li>
        </ul>
      )}
      {info && (
        <code
          title="SHA-256 of the canonical consensus record"
          data-testid="consensus-hash"
          data-sha256={info.sha256}
        >
          {info.sha256.slice(0, 16)}…
        </code>
      )}
    </div>
  );
}
