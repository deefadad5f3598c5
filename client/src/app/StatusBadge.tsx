import type { ConnectionStatus } from '../collab/status.js';
import { describeRefusal } from '../collab/status.js';

const TEXT: Record<ConnectionStatus['state'], string> = {
  connecting: 'Connecting…',
  synced: 'Live',
  offline: 'Offline – edits kept on this device',
  locked: 'Locked',
  refused: 'Disconnected',
};

/** Always-visible connection state; `data-sync-state` is what the end-to-end tests wait on. */
export function StatusBadge({ status, pending }: { status: ConnectionStatus; pending: boolean }) {
  const title = status.refusal
    ? describeRefusal(status.refusal.code, status.refusal.reason)
    : TEXT[status.state];
  return (
    <output
      className={`status status-${status.state}`}
      data-testid="sync-status"
      data-sync-state={status.state}
      data-pending={pending}
      title={title}
      aria-live="polite"
    >
      <span className="dot" aria-hidden="true" />
      {TEXT[status.state]}
    </output>
  );
}
