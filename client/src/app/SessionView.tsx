import { useCallback, useEffect, useState } from 'react';
import type { Api, SessionView as Session } from './api.js';
import type { Auth } from './auth.js';
import { ReadingWorkspace } from './ReadingWorkspace.js';
import { navigate } from './router.js';
import { Worklist } from './Worklist.js';

/** A session: worklist on the left, the reading workspace for the open scan. */
export function SessionView({
  api,
  auth,
  sessionId,
  scanId,
  onSignOut,
}: {
  api: Api;
  auth: Auth;
  sessionId: string;
  scanId: string | undefined;
  onSignOut: () => void;
}) {
  const [session, setSession] = useState<Session | undefined>();
  const [error, setError] = useState<string | undefined>();

  const reload = useCallback(() => {
    api
      .session(sessionId)
      .then(setSession, (e: unknown) => setError(e instanceof Error ? e.message : 'cannot load the session'));
  }, [api, sessionId]);

  useEffect(reload, [reload]);

  const sorted = session ? [...session.scans].sort((a, b) => a.position - b.position) : [];
  const current = sorted.find((s) => s.scanId === scanId) ?? sorted.find((s) => !s.locked) ?? sorted[0];

  useEffect(() => {
    if (session && current && current.scanId !== scanId) {
      navigate({ name: 'session', sessionId, scanId: current.scanId }, true);
    }
  }, [session, current, scanId, sessionId]);

  if (error) {
    return (
      <main className="page centered">
        <p className="error">{error}</p>
        <button type="button" onClick={() => navigate({ name: 'sessions' })}>
          Back to sessions
        </button>
      </main>
    );
  }
  if (!session) return <main className="page centered muted">Loading session…</main>;

  return (
    <div className="session-layout">
      <Worklist
        api={api}
        scans={session.scans}
        currentId={current?.scanId}
        onOpen={(id) => navigate({ name: 'session', sessionId, scanId: id })}
      />
      {current ? (
        <ReadingWorkspace
          key={current.scanId}
          api={api}
          auth={auth}
          session={session}
          scan={current}
          onBack={() => navigate({ name: 'sessions' })}
          onSignOut={onSignOut}
          onSessionChanged={reload}
        />
      ) : (
        <main className="page centered muted">This session has no scans.</main>
      )}
    </div>
  );
}
