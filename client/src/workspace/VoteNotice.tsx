import type { Finding, Vote } from '@cxr/shared';

/** "The moderator opened a vote": what is voted on, a way to see it, and a way to dismiss. */
export function VoteNotice({
  vote,
  findings,
  nameOf,
  onShow,
  onDismiss,
}: {
  vote: Vote;
  findings: readonly Finding[];
  nameOf: (userId: string) => string;
  onShow: (findingId: string) => void;
  onDismiss: () => void;
}) {
  const target = vote.target;
  const finding = target.kind === 'finding' ? findings.find((f) => f.id === target.id) : undefined;
  const what =
    target.kind === 'global'
      ? `the global label “${target.label}”`
      : finding
        ? `the ${finding.labels.join(', ')} box by ${nameOf(finding.createdBy)}`
        : 'a box';
  return (
    <div className="banner banner-vote" role="alert" data-testid="vote-opened" data-vote-id={vote.id}>
      A vote is open on {what}: cast your vote beside it in the side panel.
      {finding && (
        <button type="button" data-testid="vote-opened-show" onClick={() => onShow(finding.id)}>
          Show the box
        </button>
      )}
      <button type="button" className="ghost" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
