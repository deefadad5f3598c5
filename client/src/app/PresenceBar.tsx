import type { SessionScan } from '@cxr/shared';
import type { ChannelState } from '../collab/panel-channel.js';
import type { PresenceEntry } from './presence.js';

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
