import type { ReactNode } from 'react';
import type { ConnectionStatus } from '../collab/status.js';
import { StatusBadge } from '../app/StatusBadge.js';

/** Back, the session and scan, the document's sync state, presence, help and sign-out. */
export function WorkspaceTopbar({
  sessionName,
  scanId,
  status,
  presence,
  onBack,
  onHelp,
  onSignOut,
}: {
  sessionName: string;
  scanId: string;
  status: ConnectionStatus;
  presence: ReactNode;
  onBack: () => void;
  onHelp: () => void;
  onSignOut: () => void;
}) {
  return (
    <header className="topbar">
      <button type="button" className="ghost" onClick={onBack} title="All sessions">
        ←
      </button>
      <span className="brand">{sessionName}</span>
      <span className="muted">{scanId}</span>
      <StatusBadge status={status} pending={false} />
      <span className="spacer" />
      {presence}
      <button
        type="button"
        className="ghost"
        data-testid="help-button"
        onClick={onHelp}
        title="Shortcuts (?)"
      >
        ?
      </button>
      <button type="button" className="ghost" data-testid="sign-out" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
