import type { Finding, Target, Vote } from '@cxr/shared';
import type { SessionView as Session } from '../app/api.js';
import type { CommandResult } from '../collab/panel-channel.js';
import { AgreementDashboard } from '../consensus/AgreementDashboard.js';
import { ExportsPanel } from '../consensus/ExportsPanel.js';
import { BlindProgressPanel } from './BlindProgressPanel.js';
import { DisputesPanel } from './DisputesPanel.js';

/**
 * The side panels of the blind-then-consensus workflow, in one place so the reading workspace
 * only mounts this: the moderator's progress grid and reveal (blind stage); the dispute queue
 * and the agreement dashboard (after the reveal); the exports (every session).
 */
export function BlindSide({
  token,
  session,
  scanId,
  role,
  locked,
  readOnly,
  findings,
  decisionOf,
  votes,
  onSelect,
  openVote,
  onSessionChanged,
}: {
  token: string;
  session: Session;
  scanId: string;
  role: 'moderator' | 'reader' | 'observer';
  locked: boolean;
  readOnly: boolean;
  findings: readonly Finding[];
  decisionOf: (id: string) => 'accepted' | 'rejected' | undefined;
  votes: Iterable<Vote>;
  onSelect: (id: string) => void;
  openVote: (target: Target) => Promise<CommandResult<object>>;
  onSessionChanged: () => void;
}) {
  const blind = session.mode === 'blind';
  const isModerator = role === 'moderator';
  const sorted = [...session.scans].sort((a, b) => a.position - b.position);
  // The latest vote per finding of this scan (the channel keeps the highest seq per vote id).
  const voteState = new Map<string, Vote['state']>();
  for (const v of votes) {
    if (v.scanId !== scanId || v.target.kind !== 'finding') continue;
    const prev = voteState.get(v.target.id);
    if (prev !== 'open') voteState.set(v.target.id, v.state);
  }
  return (
    <>
      {blind && session.stage === 'blind' && (isModerator || role === 'observer') && (
        <BlindProgressPanel
          token={token}
          sessionId={session.id}
          readerIds={session.readerIds}
          members={session.members}
          scanIds={sorted.map((s) => s.scanId)}
          canReveal={isModerator}
          onRevealed={onSessionChanged}
        />
      )}
      {blind && session.stage === 'consensus' && (
        <DisputesPanel
          token={token}
          sessionId={session.id}
          scanId={scanId}
          findings={findings.filter((f) => f.fusion)}
          decisionOf={decisionOf}
          voteStateOf={(id) => voteState.get(id)}
          isModerator={isModerator}
          readOnly={readOnly}
          onSelect={onSelect}
          openVote={openVote}
        />
      )}
      {blind && session.stage === 'consensus' && isModerator && (
        <AgreementDashboard
          token={token}
          sessionId={session.id}
          currentScanId={scanId}
          members={session.members}
        />
      )}
      {!(blind && session.stage === 'blind' && role === 'reader') && (
        <ExportsPanel
          token={token}
          sessionId={session.id}
          scanId={scanId}
          scanLocked={locked}
          anyLocked={locked || session.scans.some((s) => s.locked)}
          readerFiles={blind && session.stage === 'consensus' && isModerator}
        />
      )}
    </>
  );
}
