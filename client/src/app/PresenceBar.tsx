import type { PeerPresence } from '../collab/hooks.js';
import type { Member } from './api.js';

/** Who of the panel is here now (awareness), and who is not. */
export function PresenceBar({
  members,
  peers,
  self,
  selfColor,
}: {
  members: readonly Member[];
  peers: readonly PeerPresence[];
  self: { id: string; name: string };
  selfColor: string;
}) {
  const online = new Map<string, PeerPresence>();
  for (const p of peers) online.set(p.user.id, p);
  const others = members.filter((m) => m.id !== self.id);
  const extra = [...online.values()].filter((p) => !members.some((m) => m.id === p.user.id));
  return (
    <ul
      className="presence"
      data-testid="presence-bar"
      aria-label="Panel members"
      data-online-count={online.size}
    >
      <li className="here" title="You" style={{ borderColor: selfColor }}>
        {self.name} (you)
      </li>
      {others.map((m) => {
        const p = online.get(m.id);
        return (
          <li
            key={m.id}
            className={p ? 'here' : 'away'}
            data-testid="presence-member"
            data-user-id={m.id}
            data-online={p !== undefined}
            style={p ? { borderColor: p.user.color } : undefined}
            title={`${m.username} (${m.role})${p ? '' : ' – not here'}`}
          >
            {m.username}
          </li>
        );
      })}
      {extra.map((p) => (
        <li
          key={p.clientId}
          className="here"
          data-testid="presence-member"
          data-user-id={p.user.id}
          data-online="true"
          style={{ borderColor: p.user.color }}
        >
          {p.user.name}
        </li>
      ))}
    </ul>
  );
}
