import type { SessionScan } from '@cxr/shared';
import { useLayoutEffect, useRef, useState } from 'react';
import { useColorOf } from '../annotate/colors.js';
import type { ChannelState } from '../collab/panel-channel.js';
import type { PresenceEntry } from './presence.js';

const PANEL_TEXT: Record<ChannelState, string> = {
  connecting: 'Panel: connecting…',
  connected: 'Panel live',
  reconnecting: 'Panel: reconnecting…',
  stopped: 'Panel offline',
};

/**
 * Which chips wrapped onto a second line of a one-line list (and are therefore clipped): they
 * are listed in the "+N" menu instead, so no member is ever hidden.
 */
function useOverflow(list: React.RefObject<HTMLUListElement | null>, key: string): string[] {
  const [hidden, setHidden] = useState<string[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` changes with the chips
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    const measure = () => {
      const items = [...el.children] as HTMLElement[];
      const top = items[0]?.offsetTop ?? 0;
      const wrapped = items.filter((i) => i.offsetTop > top + 2).map((i) => i.dataset.userId ?? '');
      setHidden((old) => (old.join() === wrapped.join() ? old : wrapped));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [list, key]);
  return hidden;
}

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
  const colorOf = useColorOf();
  const online = entries.filter((e) => e.online && e.id !== selfId);
  const listRef = useRef<HTMLUListElement>(null);
  const overflow = useOverflow(
    listRef,
    entries.map((e) => `${e.id}:${e.online}:${e.scanId}:${e.following}:${e.done}`).join(','),
  );
  const [menu, setMenu] = useState(false);
  const describe = (e: PresenceEntry) =>
    [
      `${e.name}${e.id === selfId ? ' (you)' : ''} – ${e.role}`,
      e.online ? where(e.scanId) : 'offline',
      e.following && e.online ? 'follows the moderator' : '',
      e.done ? 'done with this scan' : '',
    ]
      .filter(Boolean)
      .join(' · ');
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
          {following ? '↪ Following' : 'Follow'}
        </button>
      )}
      <ul
        className="presence"
        data-testid="presence-bar"
        aria-label="Panel members"
        data-online-count={online.length}
        ref={listRef}
      >
        {entries.map((e) => {
          const self = e.id === selfId;
          const color = self ? selfColor : colorOf(e.id);
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
              data-color={color}
              data-overflow={overflow.includes(e.id)}
              style={{ borderColor: color }}
              title={describe(e)}
            >
              {e.role === 'moderator' && (
                <span className="role" aria-hidden="true">
                  ★{' '}
                </span>
              )}
              <span className="who">
                {e.name}
                {self ? ' (you)' : ''}
              </span>
              {e.online && e.scanId !== scanId && e.scanId !== null && (
                <small className="where"> · {where(e.scanId)}</small>
              )}
              {e.following && e.online && (
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
      {overflow.length > 0 && (
        <div className="presence-more">
          <button
            type="button"
            data-testid="presence-overflow"
            data-count={overflow.length}
            aria-expanded={menu}
            title="More members"
            onClick={() => setMenu((m) => !m)}
          >
            +{overflow.length}
          </button>
          {menu && (
            <ul className="presence-menu" data-testid="presence-overflow-menu">
              {entries
                .filter((e) => overflow.includes(e.id))
                .map((e) => (
                  <li
                    key={e.id}
                    data-testid="presence-overflow-item"
                    data-user-id={e.id}
                    data-online={e.online}
                    className={e.online ? 'here' : 'away'}
                  >
                    <span
                      className="swatch"
                      style={{ background: e.id === selfId ? selfColor : colorOf(e.id) }}
                    />
                    {describe(e)}
                  </li>
                ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
