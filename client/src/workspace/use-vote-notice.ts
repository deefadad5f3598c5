import type { Vote } from '@cxr/shared';
import { useEffect, useRef, useState } from 'react';

/**
 * Tells a reader when the moderator opens a vote on this scan: the newest open vote they have
 * not been told about yet, until they dismiss it, cast a ballot or the vote ends.
 */
export function useVoteNotice(openVotes: readonly Vote[], userId: string, enabled: boolean) {
  const told = useRef(new Set<string>());
  const [current, setCurrent] = useState<Vote | undefined>();
  const ids = openVotes.map((v) => v.id).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the ids stand for the open votes
  useEffect(() => {
    if (!enabled) return;
    const fresh = openVotes.find((v) => !told.current.has(v.id) && v.ballots[userId] === undefined);
    if (fresh) {
      told.current.add(fresh.id);
      setCurrent(fresh);
    }
  }, [ids, enabled, userId]);
  const live = current && openVotes.find((v) => v.id === current.id);
  const showing = live && live.ballots[userId] === undefined ? live : undefined;
  return { vote: showing, dismiss: () => setCurrent(undefined) };
}
