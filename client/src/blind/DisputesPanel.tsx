import type { Finding, Target } from '@cxr/shared';
import { useEffect, useState } from 'react';
import type { CommandResult } from '../collab/panel-channel.js';
import { CommandError, useCommand } from '../consensus/TargetConsensus.js';
import { type Dispute, fetchDisputes } from './blind-api.js';

/**
 * The dispute queue of the scan after the reveal: proposals below quorum (share <= 1/2) and
 * differently labelled proposals that overlap. Selecting an item selects its proposal; the
 * moderator puts it to a vote, and the vote itself runs in the proposal's usual consensus
 * controls (same tally, ballots, close and override as for every finding).
 */
export function DisputesPanel({
  token,
  sessionId,
  scanId,
  findings,
  decisionOf,
  voteStateOf,
  isModerator,
  readOnly,
  onSelect,
  openVote,
}: {
  token: string;
  sessionId: string;
  scanId: string;
  findings: readonly Finding[];
  decisionOf: (id: string) => 'accepted' | 'rejected' | undefined;
  voteStateOf: (id: string) => 'open' | 'closed' | 'void' | undefined;
  isModerator: boolean;
  readOnly: boolean;
  onSelect: (id: string) => void;
  openVote: (target: Target) => Promise<CommandResult<object>>;
}) {
  const [disputes, setDisputes] = useState<Dispute[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const command = useCommand();
  // The queue depends on the proposals: ask again whenever one of them changes.
  const key = findings.map((f) => `${f.id}:${f.updatedAt}`).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the proposals' contents
  useEffect(() => {
    let live = true;
    fetchDisputes(token, sessionId, scanId).then(
      (d) => {
        if (!live) return;
        setDisputes(d);
        setError(undefined);
      },
      (e: unknown) => live && setError(e instanceof Error ? e.message : 'cannot load the disputes'),
    );
    return () => {
      live = false;
    };
  }, [token, sessionId, scanId, key]);

  const labelsOf = (id: string) => findings.find((f) => f.id === id)?.labels.join(', ') ?? id;
  const item = (id: string) => {
    const decision = decisionOf(id);
    const voteState = voteStateOf(id);
    return (
      <span className="dispute-target" key={id}>
        <button
          type="button"
          className="ghost"
          data-testid="dispute-select"
          data-finding-id={id}
          onClick={() => onSelect(id)}
        >
          {labelsOf(id)}
        </button>
        {decision && <small className={`decision-${decision}`}> {decision}</small>}
        {isModerator && !decision && voteState !== 'open' && (
          <button
            type="button"
            data-testid="dispute-vote"
            data-finding-id={id}
            disabled={readOnly || command.busy}
            onClick={() => {
              onSelect(id);
              void command.run(() => openVote({ kind: 'finding', id }));
            }}
          >
            Put to vote
          </button>
        )}
        {voteState === 'open' && <small className="muted"> vote open</small>}
      </span>
    );
  };

  return (
    <section
      className="panel"
      aria-labelledby="disputes-title"
      data-testid="disputes-panel"
      data-count={disputes?.length ?? ''}
    >
      <h2 id="disputes-title">
        Disputes <span className="count">{disputes?.length ?? '…'}</span>
      </h2>
      {disputes?.length === 0 && <p className="muted">No proposal below quorum, no label conflict.</p>}
      <ul className="disputes">
        {disputes?.map((d) =>
          d.kind === 'below-quorum' ? (
            <li
              key={`q-${d.findingId}`}
              data-testid="dispute-item"
              data-kind={d.kind}
              data-finding-id={d.findingId}
              data-decision={decisionOf(d.findingId) ?? ''}
            >
              <small className="muted">Below quorum ({Math.round(d.share * 100)}%):</small>{' '}
              {item(d.findingId)}
            </li>
          ) : (
            <li
              key={`c-${d.findingIds.join('|')}`}
              data-testid="dispute-item"
              data-kind={d.kind}
              data-finding-id={d.findingIds.join('|')}
            >
              <small className="muted">Label conflict (IoU {d.iou.toFixed(2)}):</small>{' '}
              {d.findingIds.map((id) => item(id))}
            </li>
          ),
        )}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <CommandError error={command.error} />
    </section>
  );
}
