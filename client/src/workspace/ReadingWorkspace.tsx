import type { GlobalLabel, SessionScan } from '@cxr/shared';
import { NO_FINDING, checkReadingRules } from '@cxr/shared';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { AnalyticsPanel } from '../analytics/AnalyticsPanel.js';
import { useAnalyticsCapture } from '../analytics/use-analytics-capture.js';
import { ColorsContext, panelOrder, sessionColors } from '../annotate/colors.js';
import { FindingsList } from '../annotate/FindingsList.js';
import { GlobalLabelsPanel } from '../annotate/GlobalLabelsPanel.js';
import { type Api, type SessionView as Session, dicomUrl, previewUrl } from '../app/api.js';
import type { Auth } from '../app/auth.js';
import { HelpOverlay } from '../app/HelpOverlay.js';
import { PresenceBar } from '../app/PresenceBar.js';
import { presenceEntries } from '../app/presence.js';
import { navigate } from '../app/router.js';
import { BlindSide } from '../blind/BlindSide.js';
import { FusionInfo, TallyBadge } from '../blind/FusionViews.js';
import { useTallies } from '../blind/tallies.js';
import { useScanConnection } from '../collab/hooks.js';
import type { LivePanel } from '../collab/panel-hooks.js';
import { defaultWsBase } from '../collab/scan-connection.js';
import { ConsensusPanel } from '../consensus/ConsensusPanel.js';
import { ModeratorPanel } from '../consensus/ModeratorPanel.js';
import { ViewerController } from '../viewer/controller.js';
import { prefetchEnabled, sharedImageCache } from '../viewer/image-cache.js';
import { type ImageUrls, useScanImage } from '../viewer/use-scan-image.js';
import { ReaderLegend } from './ReaderLegend.js';
import { ReaderProgressPanel } from './ReaderProgressPanel.js';
import { useAnnotations } from './use-annotations.js';
import { useCursorPresence } from './use-cursor-presence.js';
import { useFirstPaint } from './use-first-paint.js';
import { useLiveConsensus } from './use-live-consensus.js';
import { usePrefetch } from './use-prefetch.js';
import { useSelection } from './use-selection.js';
import { useViewerSize } from './use-viewer-size.js';
import { useVoteNotice } from './use-vote-notice.js';
import { useStoredFlag } from './use-stored-flag.js';
import { useWorkspaceHotkeys } from './use-workspace-hotkeys.js';
import { ViewerStage } from './ViewerStage.js';
import { ViewerToolbar } from './ViewerToolbar.js';
import { VoteNotice } from './VoteNotice.js';
import { WorkspaceBanners } from './WorkspaceBanners.js';
import { WorkspaceTopbar } from './WorkspaceTopbar.js';

const IMAGE_URLS: ImageUrls = { full: dicomUrl, preview: previewUrl };

/**
 * One scan being read: the top bar with presence, the viewer with its toolbar, and the side
 * panels (global labels, findings, the reader's progress, consensus, blind stage, moderator).
 * The pieces live in this folder; this component only wires them to one scan and one user.
 */
export function ReadingWorkspace({
  api,
  auth,
  session,
  scan,
  onBack,
  onSignOut,
  onSessionChanged,
  role,
  live: panel,
  onFollow,
}: {
  api: Api;
  auth: Auth;
  session: Session;
  scan: SessionScan;
  onBack: () => void;
  onSignOut: () => void;
  onSessionChanged: () => void;
  role: 'moderator' | 'reader' | 'observer';
  /** The session's live panel (presence, votes); undefined until it is created. */
  live: LivePanel | undefined;
  onFollow: (following: boolean) => void;
}) {
  const userId = auth.user.id;
  // Blind stage: a reader works in their own private document (`<session>/<scan>/reading`);
  // the shared one is closed to them and read-only for everyone else until the reveal.
  const blindStage = session.mode === 'blind' && session.stage === 'blind';
  const blindReading = blindStage && role === 'reader';
  const wsBase = defaultWsBase();
  const room = useMemo(
    () => ({
      sessionId: session.id,
      scanId: blindReading ? `${scan.scanId}/reading` : scan.scanId,
      token: auth.token,
      userId,
      wsBase,
    }),
    [session.id, scan.scanId, auth.token, userId, blindReading, wsBase],
  );
  const live = useScanConnection(room);
  const { store, snap } = useAnnotations(live?.snapshot.doc, userId, scan.rows, scan.columns);

  const controller = useMemo(() => new ViewerController(), []);
  const viewer = useSyncExternalStore(controller.subscribe, controller.getState);
  const cache = sharedImageCache();
  const imageState = useScanImage(scan, auth.token, controller, IMAGE_URLS, cache);
  const stageRef = useRef<HTMLDivElement>(null);
  useViewerSize(stageRef, controller);
  const onFirstPaint = useFirstPaint(stageRef, imageState);

  useAnalyticsCapture({
    enabled: role === 'reader',
    channel: panel?.channel,
    sessionId: session.id,
    scanId: scan.scanId,
    userId,
    controller,
    findings: snap.findings,
  });

  const status = live?.snapshot.status ?? { state: 'connecting' as const };
  // "Locked by me" bridges the moment between the lock's answer and the document saying so;
  // after that the document decides (an admin may unlock).
  const [lockedByMe, setLockedByMe] = useState(false);
  useEffect(() => {
    if (snap.meta.locked) setLockedByMe(false);
  }, [snap.meta.locked]);
  const locked = snap.meta.locked || lockedByMe || (scan.locked && status.state !== 'synced');
  const readOnly = locked || status.refusal?.stopped === true || (blindStage && !blindReading);
  const selection = useSelection(store, snap, readOnly);
  const [help, setHelp] = useState(false);
  const [sideOpen, setSideOpen] = useStoredFlag('cxr.side-panels', true);
  // A locked scan has no drawing: the Box tool gives way to Select.
  useEffect(() => {
    if (readOnly && viewer.tool === 'draw') controller.setTool('select');
  }, [readOnly, viewer.tool, controller]);

  const members = session.members;
  const nameOf = useCallback(
    (id: string) => (id === userId ? auth.user.username : (members.find((m) => m.id === id)?.username ?? id)),
    [members, userId, auth.user.username],
  );
  const order = useMemo(() => panelOrder(session), [session]);
  const colorOf = useMemo(() => sessionColors(order), [order]);
  const myColor = colorOf(userId);
  const [hiddenAuthors, setHiddenAuthors] = useState<ReadonlySet<string>>(new Set());
  const toggleAuthor = (id: string) =>
    setHiddenAuthors((h) => {
      const next = new Set(h);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const connection = live?.connection;
  const { onCursor, peers, cursors } = useCursorPresence(connection, live?.snapshot.generation ?? 0, {
    id: userId,
    name: auth.user.username,
    color: myColor,
  });

  useWorkspaceHotkeys(controller, store, {
    removeSelected: selection.removeSelected,
    deselect: () => {
      setHelp(false);
      selection.setPicker(undefined);
      selection.setSelectedId(undefined);
    },
    toggleHelp: () => setHelp((h) => !h),
    editLabels: () => {
      if (selection.selectedId && !readOnly) selection.editLabels(selection.selectedId);
    },
  });

  const tallies = useTallies(live?.snapshot.doc);
  const consensus = useLiveConsensus({
    api,
    token: auth.token,
    wsBase,
    session,
    scan,
    panel,
    snap,
    role,
    userId,
    locked,
    readOnly,
    blindStage,
    readers: session.readerIds.map((id) => ({
      id,
      name: nameOf(id),
      online: panelMemberOnline(panel, id),
    })),
  });
  const voteNotice = useVoteNotice(consensus.openVotes, userId, role === 'reader' && !readOnly);
  const { panelSnap, panelLive } = consensus;
  const moderatorScanId = panelSnap?.members.find((m) => m.role === 'moderator' && m.online)?.scanId ?? null;
  usePrefetch({
    enabled: prefetchEnabled(),
    ready: imageState.kind !== 'loading' && imageState.image.preview !== true,
    cache,
    urls: IMAGE_URLS,
    token: auth.token,
    worklist: [...session.scans].sort((a, b) => a.position - b.position).map((s) => s.scanId),
    current: scan.scanId,
    moderatorScanId,
  });

  const entries = presenceEntries({
    members,
    moderatorId: session.moderatorId,
    live: panelLive ? panelSnap?.members : undefined,
    peers,
    progress: snap.progress,
    selfId: userId,
    scanId: scan.scanId,
  });
  const drawBlocked = snap.globals.some((g) => g.label === NO_FINDING)
    ? '"No finding" is proposed: withdraw it before drawing boxes'
    : undefined;
  const toggleGlobal = (label: GlobalLabel) => {
    const r = store?.toggleGlobal(label);
    if (r && !r.ok) selection.setNotice(r.reason);
  };
  const problems = checkReadingRules(snap.findings, snap.globals);
  const readerIds = session.readerIds;
  const readersDone = snap.progress.filter((p) => p.done && readerIds.includes(p.userId)).length;
  const myDone = snap.progress.some((p) => p.userId === userId && p.done);
  const doneBlocked = readOnly
    ? 'the scan is locked'
    : !myDone && problems.length > 0
      ? problems.join('; ')
      : undefined;
  const isModerator = role === 'moderator';

  return (
    <ColorsContext.Provider value={colorOf}>
      <div className="workspace">
        <WorkspaceTopbar
          sessionName={session.name}
          scanId={scan.scanId}
          status={status}
          onBack={onBack}
          onHelp={() => setHelp(true)}
          onSignOut={onSignOut}
          presence={
            <PresenceBar
              entries={entries}
              selfId={userId}
              selfColor={myColor}
              scanId={scan.scanId}
              scans={session.scans}
              panelState={panelSnap?.state}
              panelError={
                panelSnap?.error ? `${panelSnap.error.message} (${panelSnap.error.code})` : undefined
              }
              following={panelSnap?.following ?? false}
              canFollow={role === 'reader'}
              onFollow={onFollow}
            />
          }
        />
        <WorkspaceBanners
          locked={locked}
          blindReading={blindReading}
          blindWaiting={blindStage && !blindReading}
          refusal={status.refusal}
          onSignOut={onSignOut}
          onDismiss={() => connection?.dismissRefusal()}
        />
        {voteNotice.vote && (
          <VoteNotice
            vote={voteNotice.vote}
            findings={snap.findings}
            nameOf={nameOf}
            onShow={(id) => {
              setHiddenAuthors(new Set());
              selection.setSelectedId(id);
              document
                .querySelector(`[data-testid="finding-item"][data-finding-id="${CSS.escape(id)}"]`)
                ?.scrollIntoView({ block: 'nearest' });
            }}
            onDismiss={voteNotice.dismiss}
          />
        )}

        <div className={sideOpen ? 'reading' : 'reading side-collapsed'}>
          <section className="viewer-column">
            <ViewerToolbar
              controller={controller}
              viewer={viewer}
              canUndo={snap.canUndo}
              canRedo={snap.canRedo}
              readOnly={readOnly}
              onUndo={() => store?.undo()}
              onRedo={() => store?.redo()}
              sideOpen={sideOpen}
              onToggleSide={() => setSideOpen(!sideOpen)}
            />
            <ViewerStage
              stageRef={stageRef}
              controller={controller}
              viewer={viewer}
              imageState={imageState}
              rows={scan.rows}
              columns={scan.columns}
              onFirstPaint={onFirstPaint}
              store={store}
              snap={snap}
              selection={selection}
              readOnly={readOnly}
              drawBlocked={drawBlocked}
              cursors={cursors}
              nameOf={nameOf}
              colorOf={colorOf}
              statusOf={consensus.statusOf}
              hiddenAuthors={hiddenAuthors}
              overlay={
                <ReaderLegend
                  members={order.map((id) => ({
                    id,
                    name: nameOf(id),
                    role:
                      id === session.moderatorId
                        ? 'moderator'
                        : readerIds.includes(id)
                          ? 'reader'
                          : 'observer',
                    boxes: snap.findings.filter((f) => f.createdBy === id).length,
                  }))}
                  colorOf={colorOf}
                  hidden={hiddenAuthors}
                  onToggle={toggleAuthor}
                />
              }
              onCursor={onCursor}
            />
          </section>

          <aside className="side" data-testid="side-panels" hidden={!sideOpen}>
            <GlobalLabelsPanel
              findings={snap.findings}
              globals={snap.globals}
              readOnly={readOnly}
              authorName={nameOf}
              onToggle={toggleGlobal}
              discussed={consensus.discussed}
              consensus={
                blindStage ? undefined : (label) => consensus.consensusFor({ kind: 'global', label })
              }
              tally={(label) => (
                <TallyBadge label={label} tally={tallies.get(label)} readers={readerIds.length} />
              )}
            />
            <FindingsList
              findings={snap.findings}
              selectedId={selection.selectedId}
              readOnly={readOnly}
              authorName={nameOf}
              onSelect={selection.setSelectedId}
              onEditLabels={selection.editLabels}
              onRemove={(id) => store?.remove(id)}
              decisionOf={consensus.decisionOf}
              consensus={(f) => (
                <>
                  <FusionInfo
                    finding={f}
                    readers={readerIds.length}
                    selected={f.id === selection.selectedId}
                    nameOf={nameOf}
                  />
                  {consensus.consensusFor({ kind: 'finding', id: f.id })}
                </>
              )}
            />
            {role === 'reader' && (
              <ReaderProgressPanel
                done={myDone}
                blocked={doneBlocked}
                stillValid={problems.length === 0}
                onToggle={() => {
                  const r = store?.setDone(!myDone);
                  if (r && !r.ok) selection.setNotice(r.reason);
                }}
              />
            )}
            {!blindStage && (
              <ConsensusPanel
                api={api}
                sessionId={session.id}
                scanId={scan.scanId}
                isModerator={isModerator}
                locked={locked}
                readingValid={problems.length === 0}
                undecided={consensus.undecided}
                acceptedGlobals={consensus.acceptedGlobals}
                nameOf={nameOf}
                readersDone={readersDone}
                readers={readerIds.length}
                lock={consensus.lock}
                unlock={auth.user.role === 'admin' ? consensus.unlock : undefined}
                onLocked={() => {
                  setLockedByMe(true);
                  onSessionChanged();
                }}
              />
            )}
            <BlindSide
              token={auth.token}
              session={session}
              scanId={scan.scanId}
              role={role}
              locked={locked}
              readOnly={readOnly}
              findings={snap.findings}
              decisionOf={consensus.decisionOf}
              votes={consensus.votes?.values() ?? []}
              onSelect={selection.setSelectedId}
              openVote={consensus.actions.openVote}
              onSessionChanged={onSessionChanged}
            />
            {isModerator && (
              <ModeratorPanel
                scans={session.scans}
                currentScanId={scan.scanId}
                summaries={consensus.allSummaries}
                votes={consensus.votes ?? new Map()}
                members={panelLive ? (panelSnap?.members ?? []) : []}
                live={panelLive}
                onGoto={async (id) => {
                  const answer = await consensus.goto(id);
                  // The moderator moves too; followers are moved by the server's session:goto.
                  if (answer.ok && id !== scan.scanId)
                    navigate({ name: 'session', sessionId: session.id, scanId: id });
                  return answer;
                }}
              />
            )}
            {isModerator && <AnalyticsPanel token={auth.token} sessionId={session.id} panel={panel} />}
          </aside>
        </div>
        {help && <HelpOverlay onClose={() => setHelp(false)} />}
      </div>
    </ColorsContext.Provider>
  );
}

function panelMemberOnline(panel: LivePanel | undefined, id: string): boolean {
  return panel?.snapshot.members.some((m) => m.userId === id && m.online) ?? false;
}
