import type { PresenceMember, SessionScan, Vote } from '@cxr/shared';
import type { ScanSummary } from '../collab/scan-summaries.js';
import { CommandError, useCommand } from './TargetConsensus.js';
import type { CommandResult } from '../collab/panel-channel.js';

/**
 * The moderator's view of the whole session: each scan's state (open or locked, undecided
 * candidates, open votes, who is on it) and "go to" that moves the moderator and every reader
 * who follows. Votes, decisions and the lock itself are on the scan's own panels.
 */
export function ModeratorPanel({
  scans,
  currentScanId,
  summaries,
  votes,
  members,
  live,
  onGoto,
}: {
  scans: readonly SessionScan[];
  currentScanId: string;
  summaries: ReadonlyMap<string, ScanSummary>;
  votes: ReadonlyMap<string, Vote>;
  members: readonly PresenceMember[];
  live: boolean;
  onGoto: (scanId: string) => Promise<CommandResult<object>>;
}) {
  const command = useCommand();
  const openVotes = new Map<string, number>();
  for (const v of votes.values())
    if (v.state === 'open') openVotes.set(v.scanId, (openVotes.get(v.scanId) ?? 0) + 1);
  return (
    <section className="panel" aria-labelledby="moderator-title" data-testid="moderator-panel">
      <h2 id="moderator-title">Moderator</h2>
      <ol className="moderator-scans">
        {[...scans]
          .sort((a, b) => a.position - b.position)
          .map((s) => {
            const summary = summaries.get(s.scanId);
            const locked = summary?.locked ?? s.locked;
            const here = members.filter((m) => m.online && m.scanId === s.scanId).length;
            const current = s.scanId === currentScanId;
            return (
              <li
                key={s.scanId}
                data-testid="moderator-scan"
                data-scan-id={s.scanId}
                data-locked={locked}
                data-undecided={summary && !locked ? summary.undecided : ''}
                aria-current={current ? 'true' : undefined}
              >
                <span className="ms-id">
                  {s.position + 1}. {s.scanId}
                </span>
                <span className={`tag ${locked ? 'locked' : 'open'}`}>{locked ? 'locked' : 'open'}</span>
                {!locked && summary && (
                  <span className="muted" title="Findings and global labels without a decision">
                    {summary.undecided} undecided
                  </span>
                )}
                {(openVotes.get(s.scanId) ?? 0) > 0 && (
                  <span className="muted">{openVotes.get(s.scanId)} open vote(s)</span>
                )}
                <span className="muted" title="Panel members on this scan">
                  {here} here
                </span>
                <button
                  type="button"
                  data-testid="moderator-goto"
                  disabled={!live || command.busy}
                  title="Go to this scan with everyone who follows you"
                  onClick={() => command.run(() => onGoto(s.scanId))}
                >
                  {current ? 'Bring panel here' : 'Go (panel)'}
                </button>
              </li>
            );
          })}
      </ol>
      <CommandError error={command.error} />
    </section>
  );
}
