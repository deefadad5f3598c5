import type { AckError, Decision, Target, Vote, VoteChoice } from '@cxr/shared';
import { useState } from 'react';
import type { CommandResult } from '../collab/panel-channel.js';

/** What the consensus controls may ask the live panel to do (the session view wires them). */
export interface ConsensusActions {
  openVote(target: Target): Promise<CommandResult<object>>;
  castVote(voteId: string, choice: VoteChoice): Promise<CommandResult<object>>;
  closeVote(
    voteId: string,
    override?: { outcome: 'accepted' | 'rejected'; reason: string },
  ): Promise<CommandResult<object>>;
  decide(target: Target, outcome: 'accepted' | 'rejected', reason?: string): Promise<CommandResult<object>>;
}

/** Runs one command at a time and keeps its error for display (acks are values, not throws). */
export function useCommand(): {
  busy: boolean;
  error: AckError | undefined;
  run: (command: () => Promise<CommandResult<object>>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AckError | undefined>();
  return {
    busy,
    error,
    clear: () => setError(undefined),
    run: async (command) => {
      setBusy(true);
      setError(undefined);
      try {
        const answer = await command();
        if (!answer.ok) setError(answer.error);
        return answer.ok;
      } finally {
        setBusy(false);
      }
    },
  };
}

export function CommandError({ error }: { error: AckError | undefined }) {
  if (!error) return null;
  return (
    <p className="error command-error" role="alert" data-testid="command-error" data-code={error.code}>
      {error.message} <small>({error.code})</small>
    </p>
  );
}

const CHOICES: readonly [VoteChoice, string][] = [
  ['agree', 'Agree'],
  ['disagree', 'Disagree'],
  ['abstain', 'Abstain'],
];

/**
 * The decision, vote and tallies of one candidate (a finding or a proposed global label).
 * Readers vote (changeable while open); the moderator opens and closes votes, overrides the
 * quorum with a written reason, or decides directly. Decisions come from the scan document,
 * which the server writes, so they survive reloads and show on every client.
 */
/** A reader of the panel as the vote controls show them. */
export interface PanelReader {
  readonly id: string;
  readonly name: string;
  readonly online: boolean;
}

export function TargetConsensus({
  target,
  vote,
  decision,
  role,
  userId,
  readOnly,
  live,
  actions,
  readers,
}: {
  target: Target;
  vote: Vote | undefined;
  decision: Decision | undefined;
  role: 'moderator' | 'reader' | 'observer';
  userId: string;
  readOnly: boolean;
  /** The live panel is connected (commands would otherwise fail at once). */
  live: boolean;
  actions: ConsensusActions;
  /** The session's readers, for "who voted, who is missing" (shown to the moderator). */
  readers: readonly PanelReader[];
}) {
  const command = useCommand();
  const [overriding, setOverriding] = useState(false);
  const [confirmClose, setConfirmClose] = useState(false);
  const [outcome, setOutcome] = useState<'accepted' | 'rejected'>('rejected');
  const [reason, setReason] = useState('');
  const open = vote?.state === 'open' ? vote : undefined;
  const mine = open?.ballots[userId];
  const disabled = command.busy || !live || readOnly;
  const moderator = role === 'moderator';
  const quorum = vote?.quorum;
  const belowQuorum = open !== undefined && quorum !== undefined && open.tally.agree < quorum;
  const missing = open ? readers.filter((r) => open.ballots[r.id] === undefined) : [];

  return (
    <div
      className="target-consensus"
      data-testid="target-consensus"
      data-decision={decision?.outcome ?? ''}
      data-vote-state={vote?.state ?? ''}
    >
      {decision && (
        <span
          className={`badge badge-${decision.outcome}`}
          data-testid="decision-badge"
          data-outcome={decision.outcome}
          title={decision.reason ? `Reason: ${decision.reason}` : undefined}
        >
          {decision.outcome}
          {decision.reason ? ' *' : ''}
        </span>
      )}
      {vote && (
        <span
          className={`tally vote-${vote.state}`}
          data-testid="vote-tally"
          data-vote-id={vote.id}
          data-state={vote.state}
          data-agree={vote.tally.agree}
          data-disagree={vote.tally.disagree}
          data-abstain={vote.tally.abstain}
          data-my-choice={vote.ballots[userId] ?? ''}
          data-quorum={vote.quorum ?? ''}
          title={vote.state === 'void' ? 'The box or labels changed: the vote was voided' : undefined}
        >
          {vote.state === 'open' ? 'Vote' : vote.state === 'void' ? 'Void' : 'Closed'}: {vote.tally.agree}{' '}
          agree · {vote.tally.disagree} disagree · {vote.tally.abstain} abstain
          {quorum !== undefined && (
            <span className="quorum" data-testid="vote-quorum">
              {' '}
              · needs {quorum} agree
            </span>
          )}
          {vote.state === 'closed' && vote.outcome
            ? ` → ${vote.outcome}${vote.overridden ? ' (override)' : ''}`
            : ''}
        </span>
      )}
      {open && moderator && (
        <ul className="ballots" data-testid="vote-ballots" aria-label="Who voted">
          {readers.map((r) => {
            const choice = open.ballots[r.id];
            return (
              <li
                key={r.id}
                data-testid="vote-ballot"
                data-user-id={r.id}
                data-choice={choice ?? ''}
                data-online={r.online}
                className={choice ? `ballot-${choice}` : 'ballot-missing'}
              >
                {r.name}: {choice ?? (r.online ? 'not voted' : 'not voted (offline)')}
              </li>
            );
          })}
        </ul>
      )}
      {open && role === 'reader' && (
        <fieldset className="vote-buttons">
          <legend className="sr-only">Your vote</legend>
          {CHOICES.map(([choice, text]) => (
            <button
              key={choice}
              type="button"
              className={mine === choice ? 'on' : ''}
              aria-pressed={mine === choice}
              data-testid={`vote-${choice}`}
              disabled={disabled}
              onClick={() => command.run(() => actions.castVote(open.id, choice))}
            >
              {text}
            </button>
          ))}
        </fieldset>
      )}
      {moderator && !readOnly && (
        <span className="moderator-actions">
          {!open && (
            <button
              type="button"
              data-testid="vote-open"
              disabled={disabled}
              title={decision ? 'Put it to a new vote' : 'Ask the panel to vote'}
              onClick={() => command.run(() => actions.openVote(target))}
            >
              Open vote
            </button>
          )}
          {open && (
            <>
              <button
                type="button"
                data-testid="vote-close"
                disabled={disabled}
                title="Close: the quorum decides"
                onClick={() => {
                  // Below quorum the close rejects: say so, and who has not voted, first.
                  if (belowQuorum) setConfirmClose(true);
                  else void command.run(() => actions.closeVote(open.id));
                }}
              >
                Close vote
              </button>
              <button
                type="button"
                data-testid="vote-override"
                disabled={disabled}
                onClick={() => setOverriding((o) => !o)}
              >
                Override…
              </button>
            </>
          )}
          {!open && (
            <>
              <button
                type="button"
                data-testid="decide-accept"
                disabled={disabled || decision?.outcome === 'accepted'}
                onClick={() => command.run(() => actions.decide(target, 'accepted'))}
              >
                Accept
              </button>
              <button
                type="button"
                className="danger"
                data-testid="decide-reject"
                disabled={disabled || decision?.outcome === 'rejected'}
                onClick={() => command.run(() => actions.decide(target, 'rejected'))}
              >
                Reject
              </button>
            </>
          )}
        </span>
      )}
      {moderator && open && confirmClose && (
        <div className="close-warning" role="alertdialog" data-testid="vote-close-warning">
          <p>
            Only {open.tally.agree} agree of the {quorum} needed: closing now <strong>rejects</strong> it.
            {missing.length > 0 && ` Not voted yet: ${missing.map((r) => r.name).join(', ')}.`}
          </p>
          <button
            type="button"
            className="danger"
            data-testid="vote-close-confirm"
            disabled={disabled}
            onClick={() => {
              setConfirmClose(false);
              void command.run(() => actions.closeVote(open.id));
            }}
          >
            Close and reject
          </button>
          <button type="button" className="ghost" onClick={() => setConfirmClose(false)}>
            Keep it open
          </button>
        </div>
      )}
      {moderator && open && overriding && (
        <form
          className="override"
          data-testid="override-form"
          onSubmit={(e) => {
            e.preventDefault();
            void command
              .run(() => actions.closeVote(open.id, { outcome, reason: reason.trim() }))
              .then((ok) => {
                if (ok) {
                  setOverriding(false);
                  setReason('');
                }
              });
          }}
        >
          <select
            data-testid="override-outcome"
            value={outcome}
            onChange={(e) => setOutcome(e.target.value === 'accepted' ? 'accepted' : 'rejected')}
          >
            <option value="accepted">Accept</option>
            <option value="rejected">Reject</option>
          </select>
          <input
            data-testid="override-reason"
            placeholder="Written reason (required)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            minLength={3}
            required
          />
          <button type="submit" data-testid="override-submit" disabled={disabled || reason.trim().length < 3}>
            Decide against quorum
          </button>
        </form>
      )}
      <CommandError error={command.error} />
    </div>
  );
}
