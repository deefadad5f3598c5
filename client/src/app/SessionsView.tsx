import { useEffect, useState } from 'react';
import type { Api, SessionView as Session } from './api.js';
import type { Auth } from './auth.js';

export function SessionsView({
  api,
  auth,
  onOpen,
  onSignOut,
}: {
  api: Api;
  auth: Auth;
  onOpen: (sessionId: string) => void;
  onSignOut: () => void;
}) {
  const [sessions, setSessions] = useState<Session[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    api.sessions().then(
      (s) => live && setSessions(s),
      (e: unknown) => live && setError(e instanceof Error ? e.message : 'cannot load sessions'),
    );
    return () => {
      live = false;
    };
  }, [api]);

  return (
    <div className="page">
      <header className="topbar">
        <span className="brand">CXR consensus</span>
        <span className="spacer" />
        <span className="muted" data-testid="current-user">
          {auth.user.username} · {auth.user.role}
        </span>
        <button type="button" className="ghost" data-testid="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main className="sessions">
        <h1>Your reading sessions</h1>
        {error && <p className="error">{error}</p>}
        {!sessions && !error && <p className="muted">Loading…</p>}
        {sessions?.length === 0 && <p className="muted">You are not on any panel yet.</p>}
        <ul className="session-list" data-testid="session-list">
          {sessions?.map((s) => {
            const locked = s.scans.filter((x) => x.locked).length;
            const role =
              s.moderatorId === auth.user.id
                ? 'moderator'
                : s.readerIds.includes(auth.user.id)
                  ? 'reader'
                  : '';
            return (
              <li key={s.id}>
                <button
                  type="button"
                  data-testid="session-item"
                  data-session-id={s.id}
                  onClick={() => onOpen(s.id)}
                >
                  <span className="session-name">{s.name}</span>
                  <span className="muted">
                    {s.scans.length} scans · {locked} locked · {s.readerIds.length} readers{' '}
                    {role && `· you: ${role}`}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </main>
    </div>
  );
}
