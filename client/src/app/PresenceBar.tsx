import type { PresenceMember, ReaderProgress, SessionScan } from '@cxr/shared';
import type { PeerPresence } from '../collab/hooks.js';
import type { ChannelState } from '../collab/panel-channel.js';
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
  readonly color: string | undefined;
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
      color: peer?.user.color,
    };
  });
}

const PANEL_TEXT: Record<ChannelState, string> = {
  connecting: 'Panel: connecting…',
  connected: 'Panel live',
  reconnecting: 'Panel: reconnecting…',
  stopped: 'Panel offline',
};

/** Who of the panel is online, their role, where they are, who follows and who is done. */
export function PresenceBar({
  entries,
  selfId,
  selfColor,
  scanId,
  scans,
  panelState,
  panelError,
  following,
  canFollow,
  onFollow,
}: {
  entries: readonly PresenceEntry[];
  selfId: string;
  selfColor: string;
  scanId: string;
  scans: readonly SessionScan[];
  panelState: ChannelState | undefined;
  panelError: string | undefined;
  following: boolean;
  canFollow: boolean;
  onFollow: (following: boolean) => void;
}) {
  const where = (id: string | null) => {
    if (id === null) return 'not on a scan';
    if (id === scanId) return 'on this scan';
    const s = scans.find((x) => x.scanId === id);
    return s ? `on scan ${s.position + 1}` : `on ${id}`;
  };
  const online = entries.filter((e) => e.online && e.id !== selfId);
  return (
    <div className="presence-wrap">
      {panelState && (
        <output
          className={`panel-state panel-${panelState}`}
          data-testid="panel-status"
          data-panel-state={panelState}
          title={panelError ?? PANEL_TEXT[panelState]}
        >
          {PANEL_TEXT[panelState]}
        </output>
      )}
      {canFollow && (
        <button
          type="button"
          className={following ? 'on' : ''}
          data-testid="follow-toggle"
          aria-pressed={following}
          title={
            following ? 'You follow the moderator: click to browse on your own' : 'Follow the moderator again'
          }
          onClick={() => onFollow(!following)}
        >
          {following ? 'Following moderator' : 'Follow moderator'}
        </button>
      )}
      <ul
        className="presence"
        data-testid="presence-bar"
        aria-label="Panel members"
        data-online-count={online.length}
      >
        {entries.map((e) => {
          const self = e.id === selfId;
          const color = self ? selfColor : e.color;
          const title = [
            `${e.name}${self ? ' (you)' : ''} – ${e.role}`,
            e.online ? where(e.scanId) : 'offline',
            e.following ? 'follows the moderator' : '',
            e.done ? 'done with this scan' : '',
          ]
            .filter(Boolean)
            .join(' · ');
          return (
            <li
              key={e.id}
              className={`${e.online ? 'here' : 'away'} ${e.scanId === scanId ? 'same-scan' : ''}`}
              data-testid={self ? 'presence-self' : 'presence-member'}
              data-user-id={e.id}
              data-online={e.online}
              data-role={e.role}
              data-scan-id={e.scanId ?? ''}
              data-following={e.following}
              data-done={e.done}
              style={color && e.online ? { borderColor: color } : undefined}
              title={title}
            >
              {e.role === 'moderator' && (
                <span className="role" aria-hidden="true">
                  ★{' '}
                </span>
              )}
              {e.name}
              {self ? ' (you)' : ''}
              {e.online && e.scanId !== scanId && e.scanId !== null && (
                <small className="where"> · {where(e.scanId)}</small>
              )}
              {e.following && (
                <span className="follow-mark" aria-hidden="true">
                  {' '}
                  ↪
                </span>
              )}
              {e.done && (
                <span className="done-mark" aria-hidden="true">
                  {' '}
                  ✓
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
