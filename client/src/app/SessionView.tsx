import { useCallback, useEffect, useState } from 'react';
import type { PanelChannel, PanelEvent } from '../collab/panel-channel.js';
import { saveFollowing, usePanelChannel } from '../collab/panel-hooks.js';
import { sharedDecoder } from '../viewer/decode-client.js';
import type { Api, SessionView as Session } from './api.js';
import type { Auth } from './auth.js';
import { ReadingWorkspace } from '../workspace/ReadingWorkspace.js';
import { navigate } from './router.js';
import { useStoredFlag } from '../workspace/use-stored-flag.js';
import { Worklist } from './Worklist.js';
import { PacsPicker } from '../pacs/PacsPicker.js';
import { pacsConfigured } from '../pacs/pacs-api.js';

const BLIND_STAGE_POLL_MS = 3000;

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

  // "From PACS" is offered to the session's moderator and admins when the server has a PACS.
  const [worklistOpen, setWorklistOpen] = useStoredFlag('cxr.worklist', true);
  const [pacs, setPacs] = useState(false);
  const [picking, setPicking] = useState(false);
  useEffect(() => {
    let live = true;
    pacsConfigured(api).then(
      (yes) => live && setPacs(yes),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api]);
  // The reveal has no live-panel event: during the blind stage the session is read again every
  // few seconds, so readers move from their private reading to the shared proposals by themselves.
  const blindStage = session?.mode === 'blind' && session.stage === 'blind';
  useEffect(() => {
    if (!blindStage) return;
    // A failed poll is not an error page: the next one will try again.
    const timer = setInterval(() => api.session(sessionId).then(setSession, () => {}), BLIND_STAGE_POLL_MS);
    return () => clearInterval(timer);
  }, [blindStage, api, sessionId]);
  // The decode worker boots while the session loads, off the first image's critical path.
  useEffect(() => sharedDecoder().warm(), []);

  const role = session ? sessionRole(session, auth.user.id) : 'observer';
  const onPanelEvent = useCallback(
    (event: PanelEvent, _channel: PanelChannel) => {
      switch (event.kind) {
        case 'goto':
          // Only followers move; the moderator's own goto already navigated them.
          if (event.following) navigate({ name: 'session', sessionId, scanId: event.scanId });
          return;
        case 'locked':
        case 'unlocked':
          // The worklist shows each scan's lock state: read it again from the server.
          reload();
          return;
        case 'decided':
          // Decisions live in the scan document; the views read them from there.
          return;
        default: {
          const never: never = event;
          throw new Error(`unhandled panel event ${JSON.stringify(never)}`);
        }
      }
    },
    [sessionId, reload],
  );
  const live = usePanelChannel(auth.token, sessionId, session ? role === 'reader' : undefined, onPanelEvent);

  const sorted = session ? [...session.scans].sort((a, b) => a.position - b.position) : [];
  const current = sorted.find((s) => s.scanId === scanId) ?? sorted.find((s) => !s.locked) ?? sorted[0];

  useEffect(() => {
    if (session && current && current.scanId !== scanId) {
      navigate({ name: 'session', sessionId, scanId: current.scanId }, true);
    }
  }, [session, current, scanId, sessionId]);

  const channel = live?.channel;
  const currentId = current?.scanId ?? null;
  useEffect(() => {
    channel?.setScan(currentId);
  }, [channel, currentId]);

  const setFollowing = useCallback(
    (following: boolean) => {
      channel?.setFollowing(following);
      saveFollowing(sessionId, following);
    },
    [channel, sessionId],
  );

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
    <div className={worklistOpen ? 'session-layout' : 'session-layout worklist-collapsed'}>
      <Worklist
        collapsed={!worklistOpen}
        onToggle={() => setWorklistOpen(!worklistOpen)}
        api={api}
        scans={session.scans}
        currentId={current?.scanId}
        actions={
          pacs && (role === 'moderator' || auth.user.role === 'admin') ? (
            <button type="button" onClick={() => setPicking(true)} data-testid="pacs-open">
              From PACS…
            </button>
          ) : null
        }
        onOpen={(id) => {
          // Choosing a scan yourself means you stopped following the moderator.
          if (live?.snapshot.following && id !== current?.scanId) setFollowing(false);
          navigate({ name: 'session', sessionId, scanId: id });
        }}
      />
      {current ? (
        <ReadingWorkspace
          key={`${current.scanId}:${session.stage}`}
          api={api}
          auth={auth}
          session={session}
          scan={current}
          onBack={() => navigate({ name: 'sessions' })}
          onSignOut={onSignOut}
          onSessionChanged={reload}
          role={role}
          live={live}
          onFollow={setFollowing}
        />
      ) : (
        <main className="page centered muted">This session has no scans.</main>
      )}
      {picking ? (
        <PacsPicker api={api} sessionId={sessionId} onImported={reload} onClose={() => setPicking(false)} />
      ) : null}
    </div>
  );
}

/** The user's role on this session's panel (admins who are not on it only watch). */
export function sessionRole(session: Session, userId: string): 'moderator' | 'reader' | 'observer' {
  if (session.moderatorId === userId) return 'moderator';
  return session.readerIds.includes(userId) ? 'reader' : 'observer';
}
