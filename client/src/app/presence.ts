import type { PresenceMember, ReaderProgress } from '@cxr/shared';
import type { PeerPresence } from '../collab/hooks.js';
import type { Member } from './api.js';

export interface PresenceEntry {
  readonly id: string;
  readonly name: string;
  readonly role: 'moderator' | 'reader' | 'observer';
  readonly online: boolean;
  /** The scan they are on (live panel), or null. */
  readonly scanId: string | null;
  readonly following: boolean;
  /** Marked this scan done (scan document). */
  readonly done: boolean;
}

/**
 * One row per panel member, merging the three sources that know about them: the session (who
 * is on the panel and in which role), the live panel (online, which scan, following) and this
 * scan's awareness (here, with a colour) plus the document's progress (done). The live panel
 * wins for "online" when it is connected; without it, awareness on this scan is all we know.
 */
export function presenceEntries(input: {
  members: readonly Member[];
  moderatorId: string;
  live: readonly PresenceMember[] | undefined;
  peers: readonly PeerPresence[];
  progress: readonly ReaderProgress[];
  selfId: string;
  scanId: string;
}): PresenceEntry[] {
  const liveById = new Map((input.live ?? []).map((m) => [m.userId, m]));
  const peerById = new Map(input.peers.map((p) => [p.user.id, p]));
  const doneBy = new Set(input.progress.filter((p) => p.done).map((p) => p.userId));
  const ids = [
    ...input.members.map((m) => m.id),
    ...[...liveById.keys()].filter((id) => !input.members.some((m) => m.id === id)),
  ];
  return ids.map((id) => {
    const member = input.members.find((m) => m.id === id);
    const live = liveById.get(id);
    const peer = peerById.get(id);
    const self = id === input.selfId;
    const role = live?.role ?? (id === input.moderatorId ? 'moderator' : member ? 'reader' : 'observer');
    const online = self || (live?.online ?? false) || peer !== undefined;
    return {
      id,
      name: member?.username ?? live?.username ?? peer?.user.name ?? id,
      role,
      online,
      scanId: self ? input.scanId : live?.online ? live.scanId : peer ? input.scanId : null,
      following: live?.following ?? false,
      done: doneBy.has(id),
    };
  });
}
