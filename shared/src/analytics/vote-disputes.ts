import type { VoteFact } from './inputs.js';

/**
 * A vote is disputed when a reader disagreed, the panel rejected the target or the moderator
 * overrode the quorum. Void votes (the target changed under them) are not counted at all:
 * the target they were about no longer exists in that form.
 */
export function isDisputed(vote: VoteFact): boolean {
  return vote.choices.includes('disagree') || vote.outcome === 'rejected' || vote.overridden;
}

export const countedVotes = (votes: readonly VoteFact[]): VoteFact[] =>
  votes.filter((v) => v.state !== 'void');
