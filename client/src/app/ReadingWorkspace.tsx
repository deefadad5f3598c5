import type { GlobalLabel, LocalLabel, SessionScan, Target } from '@cxr/shared';
import { NO_FINDING, PREVIEW_STEP, checkReadingRules, decisionKey, hasPreview } from '@cxr/shared';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { AnnotationStage, type RemoteCursor } from '../annotate/AnnotationStage.js';
import { colorFor } from '../annotate/colors.js';
import { BlindSide } from '../blind/BlindSide.js';
import {
  BlindBanner,
  BlindWaitBanner,
  FusionInfo,
  SourceOutlines,
  TallyBadge,
} from '../blind/FusionViews.js';
import { useTallies } from '../blind/tallies.js';
import { FindingsList } from '../annotate/FindingsList.js';
import { GlobalLabelsPanel } from '../annotate/GlobalLabelsPanel.js';
import { LabelPicker } from '../annotate/LabelPicker.js';
import { EMPTY_SNAPSHOT, YAnnotationStore } from '../annotate/store.js';
import { throttle, useScanConnection, usePeers } from '../collab/hooks.js';
import { type CommandResult, voteFor } from '../collab/panel-channel.js';
import type { LivePanel } from '../collab/panel-hooks.js';
import { defaultWsBase } from '../collab/scan-connection.js';
import { type ScanSummary, useScanSummaries } from '../collab/scan-summaries.js';
import { describeRefusal } from '../collab/status.js';
import { ConsensusPanel } from '../consensus/ConsensusPanel.js';
import { ModeratorPanel } from '../consensus/ModeratorPanel.js';
import { type ConsensusActions, TargetConsensus } from '../consensus/TargetConsensus.js';
import { type Tool, ViewerController } from '../viewer/controller.js';
import { sharedDecoder } from '../viewer/decode-client.js';
import type { DecodeTimings } from '../viewer/decode-protocol.js';
import { type DecodedImage, placeholderImage } from '../viewer/dicom.js';
import { ImageCanvas } from '../viewer/ImageCanvas.js';
import { type ImageBox, type ImagePoint, boxToScreen } from '../viewer/transform.js';
import { type Api, ApiError, type SessionView as Session, dicomUrl, previewUrl } from './api.js';
import type { Auth } from './auth.js';
import { HelpOverlay } from './HelpOverlay.js';
import { commandFor, isTypingTarget } from './hotkeys.js';
import { PresenceBar } from './PresenceBar.js';
import { presenceEntries } from './presence.js';
import { navigate } from './router.js';
import { StatusBadge } from './StatusBadge.js';

type ImageState =
  | { kind: 'loading' }
  | { kind: 'ready'; image: DecodedImage; requestedAt: number; timings: DecodeTimings }
  | { kind: 'placeholder'; image: DecodedImage; why: string; requestedAt: number };

const CURSOR_INTERVAL_MS = 66; // ~15 updates per second

/**
 * Fetches and decodes the scan in the worker: the server's quarter-resolution preview and the
 * full file at once. The preview (about 1 MB) is painted first; the full image then replaces
 * it without moving the view. The controller gets each image before React renders it, so
 * every first frame on the canvas is already the right one.
 */
function useScanImage(scan: SessionScan, token: string, controller: ViewerController): ImageState {
  const [state, setState] = useState<ImageState>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    let fullArrived = false;
    let previewShown = false;
    setState({ kind: 'loading' });
    const started = performance.now();
    const decoder = sharedDecoder();
    if (hasPreview(scan.rows, scan.columns)) {
      const previewOf = { rows: scan.rows, columns: scan.columns, step: PREVIEW_STEP };
      // A missing or failed preview only means waiting for the full file.
      void decoder.decode(previewUrl(scan.scanId), token, previewOf).then((r) => {
        if (!live || fullArrived || !r.ok) return;
        previewShown = true;
        controller.setImage(r.image);
        setState({ kind: 'ready', image: r.image, requestedAt: started, timings: r.timings });
      });
    }
    void decoder.decode(dicomUrl(scan.scanId), token).then((r) => {
      if (!live) return;
      fullArrived = true;
      if (r.ok) {
        if (previewShown) controller.upgradeImage(r.image);
        else controller.setImage(r.image);
        setState({ kind: 'ready', image: r.image, requestedAt: started, timings: r.timings });
      } else {
        const why =
          r.status === 404
            ? 'No pixel data on the server for this scan yet'
            : `Image unavailable: ${r.message}`;
        const image = placeholderImage(scan.rows, scan.columns);
        controller.setImage(image);
        setState({ kind: 'placeholder', image, why, requestedAt: started });
      }
    });
    return () => {
      live = false;
    };
  }, [scan.scanId, scan.rows, scan.columns, token, controller]);
  return state;
}

interface PickerState {
  /** A finding being labelled, or a drawn box waiting for its first label. */
  readonly target: { kind: 'finding'; id: string } | { kind: 'draft'; box: ImageBox };
}

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
  const room = useMemo(
    () => ({
      sessionId: session.id,
      scanId: blindReading ? `${scan.scanId}/reading` : scan.scanId,
      token: auth.token,
      userId,
      wsBase: defaultWsBase(),
    }),
    [session.id, scan.scanId, auth.token, userId, blindReading],
  );
  const live = useScanConnection(room);
  const doc = live?.snapshot.doc;
  const imageSize = useMemo(() => ({ rows: scan.rows, columns: scan.columns }), [scan.rows, scan.columns]);
  const store = useMemo(
    () => (doc ? new YAnnotationStore(doc, userId, imageSize) : undefined),
    [doc, userId, imageSize],
  );
  useEffect(() => () => store?.destroy(), [store]);
  const empty = EMPTY_SNAPSHOT;
  const noop = useCallback(() => () => {}, []);
  const snap = useSyncExternalStore(
    store ? store.subscribe.bind(store) : noop,
    store ? store.getSnapshot.bind(store) : () => empty,
  );

  const controller = useMemo(() => new ViewerController(), []);
  const viewer = useSyncExternalStore(controller.subscribe, controller.getState);
  const imageState = useScanImage(scan, auth.token, controller);
  const image = imageState.kind === 'loading' ? undefined : imageState.image;

  const [selectedId, setSelectedId] = useState<string | undefined>();
  const [picker, setPicker] = useState<PickerState | undefined>();
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const [lockedByMe, setLockedByMe] = useState(false);
  const stageRef = useRef<HTMLDivElement>(null);
  // Request-to-first-paint, published for the benchmark and the status tooltip.
  const requestedAt = imageState.kind === 'loading' ? undefined : imageState.requestedAt;
  const timings = imageState.kind === 'ready' ? imageState.timings : undefined;
  // The first paint may be the preview's; the full image's own first paint is published too.
  const isPreview = image?.preview === true;
  const onFirstPaint = useCallback(() => {
    const el = stageRef.current;
    if (!el || requestedAt === undefined) return;
    const elapsed = (performance.now() - requestedAt).toFixed(1);
    if (el.dataset.paintRequest !== String(requestedAt)) {
      el.dataset.paintRequest = String(requestedAt);
      el.dataset.firstPaintMs = elapsed;
      delete el.dataset.fullPaintMs;
    }
    if (!isPreview) {
      el.dataset.fullPaintMs = elapsed;
      if (timings) el.dataset.decodeTimings = JSON.stringify(timings);
    }
  }, [requestedAt, timings, isPreview]);

  const status = live?.snapshot.status ?? { state: 'connecting' as const };
  // "Locked by me" bridges the moment between the lock's answer and the document saying so;
  // after that the document decides (an admin may unlock).
  useEffect(() => {
    if (snap.meta.locked) setLockedByMe(false);
  }, [snap.meta.locked]);
  const locked = snap.meta.locked || lockedByMe || (scan.locked && status.state !== 'synced');
  const readOnly = locked || status.refusal?.stopped === true || (blindStage && !blindReading);
  const tallies = useTallies(doc);
  const isModerator = role === 'moderator';
  const members = session.members;
  const nameOf = useCallback(
    (id: string) => (id === userId ? auth.user.username : (members.find((m) => m.id === id)?.username ?? id)),
    [members, userId, auth.user.username],
  );
  const myColor = colorFor(userId);

  // Selection and picker follow the doc: a box deleted by someone else is deselected.
  useEffect(() => {
    if (selectedId && !snap.findings.some((f) => f.id === selectedId)) setSelectedId(undefined);
    if (picker?.target.kind === 'finding') {
      const id = picker.target.id;
      if (!snap.findings.some((f) => f.id === id)) setPicker(undefined);
    }
  }, [snap.findings, selectedId, picker]);

  useEffect(() => {
    if (readOnly) setPicker(undefined);
  }, [readOnly]);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(undefined), 4000);
    return () => clearTimeout(t);
  }, [notice]);

  // Resize: the viewer fills its box.
  useEffect(() => {
    const el = stageRef.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      controller.setScreen({ width: el.clientWidth, height: el.clientHeight });
    });
    observer.observe(el);
    controller.setScreen({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, [controller]);

  // Presence: name and colour now, cursor throttled to ~15/s.
  const connection = live?.connection;
  const sendCursor = useMemo(
    () =>
      throttle((cursor: { x: number; y: number } | null) => {
        connection?.setPresence({ user: { id: userId, name: auth.user.username, color: myColor }, cursor });
      }, CURSOR_INTERVAL_MS),
    [connection, userId, auth.user.username, myColor],
  );
  useEffect(() => {
    connection?.setPresence({ user: { id: userId, name: auth.user.username, color: myColor }, cursor: null });
  }, [connection, userId, auth.user.username, myColor]);
  const onCursor = useCallback(
    (p: ImagePoint | null) => sendCursor(p ? { x: Math.round(p.x), y: Math.round(p.y) } : null),
    [sendCursor],
  );

  const peers = usePeers(connection, live?.snapshot.generation ?? 0);
  const cursors: RemoteCursor[] = peers.flatMap((p) =>
    p.cursor
      ? [
          {
            clientId: p.clientId,
            userId: p.user.id,
            name: p.user.name,
            color: p.user.color,
            x: p.cursor.x,
            y: p.cursor.y,
          },
        ]
      : [],
  );

  const drawBlocked = snap.globals.some((g) => g.label === NO_FINDING)
    ? '"No finding" is proposed: withdraw it before drawing boxes'
    : undefined;

  const toggleLabel = (label: LocalLabel) => {
    if (!store || !picker) return;
    const target = picker.target;
    if (target.kind === 'draft') {
      const r = store.addFinding(target.box, [label]);
      if (r.ok) {
        setSelectedId(r.id);
        setPicker({ target: { kind: 'finding', id: r.id } });
      } else {
        setNotice(r.reason);
        setPicker(undefined);
      }
      return;
    }
    const f = snap.findings.find((x) => x.id === target.id);
    if (!f) return;
    const has = f.labels.includes(label);
    if (has && f.labels.length === 1) {
      setNotice('A box keeps at least one label: delete the box instead');
      return;
    }
    store.setLabels(f.id, has ? f.labels.filter((l) => l !== label) : [...f.labels, label]);
  };

  const toggleGlobal = (label: GlobalLabel) => {
    const r = store?.toggleGlobal(label);
    if (r && !r.ok) setNotice(r.reason);
  };

  const removeSelected = () => {
    if (selectedId && store && !readOnly) {
      store.remove(selectedId);
      setSelectedId(undefined);
    }
  };

  const setTool = (tool: Tool) => controller.setTool(tool);

  // Hotkeys (not while typing, not while the label picker has focus: it stops propagation).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTypingTarget(e.target) && e.key !== 'Escape') return;
      const command = commandFor(e);
      if (!command) return;
      e.preventDefault();
      switch (command) {
        case 'invert':
          return controller.toggleInvert();
        case 'reset':
          return controller.reset();
        case 'preset-1':
          return controller.applyPresetNumber(1);
        case 'preset-2':
          return controller.applyPresetNumber(2);
        case 'preset-3':
          return controller.applyPresetNumber(3);
        case 'preset-4':
          return controller.applyPresetNumber(4);
        case 'preset-auto':
          return controller.applyPreset('auto');
        case 'flip-h':
          return controller.flip('h');
        case 'flip-v':
          return controller.flip('v');
        case 'fit':
          return controller.fitToView();
        case 'one-to-one':
          return controller.oneToOne();
        case 'zoom-in':
          return controller.zoomBy(1.25);
        case 'zoom-out':
          return controller.zoomBy(0.8);
        case 'undo':
          return store?.undo();
        case 'redo':
          return store?.redo();
        case 'delete':
          return removeSelected();
        case 'deselect':
          setHelp(false);
          setPicker(undefined);
          return setSelectedId(undefined);
        case 'help':
          return setHelp((h) => !h);
        case 'tool-draw':
          return setTool('draw');
        case 'tool-select':
          return setTool('select');
        case 'tool-wl':
          return setTool('wl');
        case 'tool-pan':
          return setTool('pan');
        case 'labels':
          if (selectedId && !readOnly) setPicker({ target: { kind: 'finding', id: selectedId } });
          return;
        default: {
          const never: never = command;
          throw new Error(`unhandled command ${String(never)}`);
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const vp = { view: viewer.view, image: viewer.image, screen: viewer.screen };
  const pickerBox =
    picker?.target.kind === 'draft'
      ? picker.target.box
      : snap.findings.find((f) => picker?.target.kind === 'finding' && f.id === picker.target.id)?.box;
  const pickerAnchor = pickerBox
    ? (() => {
        const r = boxToScreen(vp, pickerBox);
        const x = Math.min(Math.max(8, r.x + r.width + 8), Math.max(8, viewer.screen.width - 280));
        const y = Math.min(Math.max(8, r.y), Math.max(8, viewer.screen.height - 380));
        return { x, y };
      })()
    : undefined;
  const pickerLabels =
    picker?.target.kind === 'finding'
      ? (snap.findings.find((f) => picker.target.kind === 'finding' && f.id === picker.target.id)?.labels ??
        [])
      : [];
  const problems = checkReadingRules(snap.findings, snap.globals);
  const voiText =
    viewer.voi.kind === 'window'
      ? `W ${Math.round(viewer.voi.width)} / L ${Math.round(viewer.voi.center)}`
      : 'VOI LUT';
  const imageKind = imageState.kind;
  const refusal = status.refusal;

  // ---- the live panel: presence, votes, decisions, lock ----
  const channel = panel?.channel;
  const panelSnap = panel?.snapshot;
  const panelLive = panelSnap?.state === 'connected';
  const entries = presenceEntries({
    members,
    moderatorId: session.moderatorId,
    live: panelLive ? panelSnap?.members : undefined,
    peers,
    progress: snap.progress,
    selfId: userId,
    scanId: scan.scanId,
  });
  const decisionByKey = new Map(snap.decisions.map((d) => [decisionKey(d.target), d]));
  const votes = panelSnap?.votes;
  const unavailable = {
    ok: false as const,
    error: { code: 'unavailable', message: 'the live panel is not connected' },
  };
  const actions: ConsensusActions = {
    openVote: async (target) => (channel ? channel.openVote(scan.scanId, target) : unavailable),
    castVote: async (voteId, choice) => (channel ? channel.castVote(voteId, choice) : unavailable),
    closeVote: async (voteId, override) => (channel ? channel.closeVote(voteId, override) : unavailable),
    decide: async (target, outcome, reason) =>
      channel ? channel.decide(scan.scanId, target, outcome, reason) : unavailable,
  };
  const consensusFor = (target: Target) =>
    blindStage ? null : (
      <TargetConsensus
        target={target}
        vote={votes ? voteFor(votes.values(), scan.scanId, target) : undefined}
        decision={decisionByKey.get(decisionKey(target))}
        role={role}
        userId={userId}
        readOnly={readOnly}
        live={panelLive}
        actions={actions}
      />
    );
  const discussed = [
    ...snap.decisions.flatMap((d) => (d.target.kind === 'global' ? [d.target.label] : [])),
    ...[...(votes?.values() ?? [])].flatMap((v) =>
      v.scanId === scan.scanId && v.target.kind === 'global' ? [v.target.label] : [],
    ),
  ];
  // The server's lock rule: every finding and proposed global label needs a decision.
  const candidateKeys = [
    ...snap.findings.map((f) => decisionKey({ kind: 'finding', id: f.id })),
    ...snap.globals.map((g) => decisionKey({ kind: 'global', label: g.label })),
  ];
  const undecided = candidateKeys.filter((k) => !decisionByKey.has(k)).length;
  const summary: ScanSummary = { locked, undecided, candidates: candidateKeys.length };
  const readerIds = session.readerIds;
  const readersDone = snap.progress.filter((p) => p.done && readerIds.includes(p.userId)).length;
  const myDone = snap.progress.some((p) => p.userId === userId && p.done);
  const doneBlocked = readOnly
    ? 'the scan is locked'
    : !myDone && problems.length > 0
      ? problems.join('; ')
      : undefined;
  const otherScans = useMemo(
    () =>
      isModerator
        ? session.scans.filter((s) => s.scanId !== scan.scanId && !s.locked).map((s) => s.scanId)
        : [],
    [isModerator, session.scans, scan.scanId],
  );
  const summaries = useScanSummaries(room.wsBase, auth.token, session.id, otherScans);
  const allSummaries = new Map(summaries).set(scan.scanId, summary);
  const lock = async (
    rejectUndecided: boolean,
  ): Promise<CommandResult<{ version: number; sha256: string }>> => {
    if (channel && panelLive) return channel.lock(scan.scanId, rejectUndecided);
    // Without the live panel, the HTTP lock (which has no "reject undecided" option).
    try {
      const info = await api.lock(session.id, scan.scanId);
      return { ok: true, version: info.version, sha256: info.sha256 };
    } catch (e) {
      return {
        ok: false,
        error:
          e instanceof ApiError
            ? { code: e.code, message: e.message }
            : { code: 'internal', message: 'locking failed' },
      };
    }
  };

  return (
    <div className="workspace">
      <header className="topbar">
        <button type="button" className="ghost" onClick={onBack} title="All sessions">
          ←
        </button>
        <span className="brand">{session.name}</span>
        <span className="muted">{scan.scanId}</span>
        <StatusBadge status={status} pending={false} />
        <span className="spacer" />
        <PresenceBar
          entries={entries}
          selfId={userId}
          selfColor={myColor}
          scanId={scan.scanId}
          scans={session.scans}
          panelState={panelSnap?.state}
          panelError={panelSnap?.error ? `${panelSnap.error.message} (${panelSnap.error.code})` : undefined}
          following={panelSnap?.following ?? false}
          canFollow={role === 'reader'}
          onFollow={onFollow}
        />
        <button
          type="button"
          className="ghost"
          data-testid="help-button"
          onClick={() => setHelp(true)}
          title="Shortcuts (?)"
        >
          ?
        </button>
        <button type="button" className="ghost" data-testid="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      {locked && (
        <div className="banner banner-locked" data-testid="locked-banner" role="status">
          This scan is locked: the consensus is final and read-only.
        </div>
      )}
      {blindReading && <BlindBanner />}
      {blindStage && !blindReading && <BlindWaitBanner />}
      {refusal && (
        <div
          className="banner banner-refused"
          data-testid="refused-banner"
          role="alert"
          data-code={refusal.code}
        >
          {refusal.stopped ? 'The server closed the connection: ' : 'The server refused a change: '}
          {describeRefusal(refusal.code, refusal.reason)}.
          {refusal.discarded && ' Local edits to this scan were discarded and the panel’s copy reloaded.'}
          {refusal.stopped && refusal.code === 4401 && (
            <button type="button" onClick={onSignOut}>
              Sign in again
            </button>
          )}
          {refusal.stopped && refusal.code !== 4401 && (
            <button type="button" onClick={() => location.reload()}>
              Reload
            </button>
          )}
          {!refusal.stopped && (
            <button type="button" className="ghost" onClick={() => connection?.dismissRefusal()}>
              Dismiss
            </button>
          )}
        </div>
      )}

      <div className="reading">
        <section className="viewer-column">
          <div className="toolbar" role="toolbar" aria-label="Viewer tools">
            <div className="group">
              {(
                [
                  ['draw', 'Box', 'B'],
                  ['select', 'Select', 'S'],
                  ['wl', 'W/L', 'W'],
                  ['pan', 'Pan', 'P'],
                ] as const
              ).map(([tool, label, key]) => (
                <button
                  key={tool}
                  type="button"
                  aria-pressed={viewer.tool === tool}
                  className={viewer.tool === tool ? 'on' : ''}
                  data-testid={`tool-${tool}`}
                  title={`${label} (${key})`}
                  onClick={() => setTool(tool)}
                >
                  {label}
                </button>
              ))}
            </div>
            <div className="group">
              {controller.presets.slice(0, 4).map((p, i) => (
                <button
                  key={p.id}
                  type="button"
                  className={viewer.presetId === p.id ? 'on' : ''}
                  data-testid={`preset-${p.id}`}
                  title={`${p.label} (${i + 1})`}
                  onClick={() => controller.applyPreset(p.id)}
                >
                  {p.label}
                </button>
              ))}
              <button
                type="button"
                className={viewer.presetId === 'auto' ? 'on' : ''}
                data-testid="preset-auto"
                title="Histogram auto-window (A)"
                onClick={() => controller.applyPreset('auto')}
              >
                Auto
              </button>
            </div>
            <div className="group">
              <button
                type="button"
                className={viewer.invert ? 'on' : ''}
                data-testid="invert"
                title="Invert (I)"
                onClick={() => controller.toggleInvert()}
              >
                Invert
              </button>
              <button
                type="button"
                className={viewer.view.flipH ? 'on' : ''}
                data-testid="flip-h"
                title="Flip horizontal (H)"
                onClick={() => controller.flip('h')}
              >
                Flip H
              </button>
              <button
                type="button"
                className={viewer.view.flipV ? 'on' : ''}
                data-testid="flip-v"
                title="Flip vertical (V)"
                onClick={() => controller.flip('v')}
              >
                Flip V
              </button>
              <button
                type="button"
                data-testid="zoom-fit"
                title="Fit (F)"
                onClick={() => controller.fitToView()}
              >
                Fit
              </button>
              <button
                type="button"
                data-testid="zoom-1to1"
                title="1:1 (Z)"
                onClick={() => controller.oneToOne()}
              >
                1:1
              </button>
              <button
                type="button"
                data-testid="reset-view"
                title="Reset (Space)"
                onClick={() => controller.reset()}
              >
                Reset
              </button>
            </div>
            <div className="group">
              <button
                type="button"
                data-testid="undo"
                disabled={!snap.canUndo || readOnly}
                title="Undo (Ctrl+Z)"
                onClick={() => store?.undo()}
              >
                Undo
              </button>
              <button
                type="button"
                data-testid="redo"
                disabled={!snap.canRedo || readOnly}
                title="Redo (Ctrl+Shift+Z)"
                onClick={() => store?.redo()}
              >
                Redo
              </button>
            </div>
            <span className="spacer" />
            <span className="readout" data-testid="wl-readout">
              {voiText} · {Math.round(viewer.view.scale * 100)}%
            </span>
          </div>

          <div
            ref={stageRef}
            className="viewer"
            data-testid="viewer"
            data-image-state={imageKind}
            data-findings-count={snap.findings.length}
            data-globals={snap.globals.map((g) => g.label).join('|')}
            data-read-only={readOnly}
            data-view={JSON.stringify({
              ...viewer.view,
              imageWidth: viewer.image.width,
              imageHeight: viewer.image.height,
              screenWidth: viewer.screen.width,
              screenHeight: viewer.screen.height,
            })}
          >
            {image && <ImageCanvas controller={controller} image={image} onFirstPaint={onFirstPaint} />}
            {image && store && (
              <AnnotationStage
                controller={controller}
                viewer={viewer}
                findings={snap.findings}
                selectedId={selectedId}
                draft={picker?.target.kind === 'draft' ? picker.target.box : undefined}
                readOnly={readOnly}
                drawBlocked={drawBlocked}
                cursors={cursors}
                authorName={nameOf}
                onSelect={setSelectedId}
                onDraftDrawn={(box) => setPicker({ target: { kind: 'draft', box } })}
                onBoxChange={(id, box) => store.setBox(id, box)}
                onEditLabels={(id) => {
                  setSelectedId(id);
                  setPicker({ target: { kind: 'finding', id } });
                }}
                onCursor={onCursor}
                onNotice={setNotice}
              />
            )}
            {image && (
              <SourceOutlines
                finding={snap.findings.find((f) => f.id === selectedId)}
                viewport={vp}
                nameOf={nameOf}
              />
            )}
            {imageKind === 'loading' && <div className="viewer-message">Loading image…</div>}
            {imageState.kind === 'placeholder' && (
              <div className="viewer-hint" data-testid="image-placeholder">
                {imageState.why} – annotating on a blank {scan.columns} × {scan.rows} canvas.
              </div>
            )}
            {picker && pickerAnchor && (
              <LabelPicker
                key={picker.target.kind === 'finding' ? picker.target.id : 'draft'}
                title={picker.target.kind === 'draft' ? 'Label the new box' : 'Labels of the box'}
                selected={pickerLabels}
                anchor={pickerAnchor}
                onToggle={toggleLabel}
                onClose={() => setPicker(undefined)}
              />
            )}
            {notice && (
              <div className="toast" role="status" data-testid="notice">
                {notice}
              </div>
            )}
          </div>
        </section>

        <aside className="side">
          <GlobalLabelsPanel
            findings={snap.findings}
            globals={snap.globals}
            readOnly={readOnly}
            authorName={nameOf}
            onToggle={toggleGlobal}
            discussed={discussed}
            consensus={blindStage ? undefined : (label) => consensusFor({ kind: 'global', label })}
            tally={(label) => (
              <TallyBadge label={label} tally={tallies.get(label)} readers={readerIds.length} />
            )}
          />
          <FindingsList
            findings={snap.findings}
            selectedId={selectedId}
            readOnly={readOnly}
            authorName={nameOf}
            onSelect={setSelectedId}
            onEditLabels={(id) => {
              setSelectedId(id);
              setPicker({ target: { kind: 'finding', id } });
            }}
            onRemove={(id) => store?.remove(id)}
            decisionOf={(id) => decisionByKey.get(decisionKey({ kind: 'finding', id }))?.outcome}
            consensus={(f) => (
              <>
                <FusionInfo
                  finding={f}
                  readers={readerIds.length}
                  selected={f.id === selectedId}
                  nameOf={nameOf}
                />
                {consensusFor({ kind: 'finding', id: f.id })}
              </>
            )}
          />
          {role === 'reader' && (
            <section className="panel" aria-labelledby="progress-title" data-testid="progress-panel">
              <h2 id="progress-title">Your reading</h2>
              <button
                type="button"
                className={myDone ? 'on' : ''}
                data-testid="mark-done"
                aria-pressed={myDone}
                disabled={doneBlocked !== undefined}
                title={doneBlocked ?? (myDone ? 'Mark as not done' : 'Mark this scan done')}
                onClick={() => {
                  const r = store?.setDone(!myDone);
                  if (r && !r.ok) setNotice(r.reason);
                }}
              >
                {myDone ? '✓ Done' : 'Mark done'}
              </button>
              {doneBlocked && (
                <p className="rules warn" data-testid="mark-done-reason">
                  Cannot mark done: {doneBlocked}
                </p>
              )}
              {myDone && problems.length > 0 && (
                <p className="rules warn">Marked done, but the reading no longer satisfies the rules.</p>
              )}
            </section>
          )}
          {!blindStage && (
            <ConsensusPanel
              api={api}
              sessionId={session.id}
              scanId={scan.scanId}
              isModerator={isModerator}
              locked={locked}
              readingValid={problems.length === 0}
              undecided={undecided}
              readersDone={readersDone}
              readers={readerIds.length}
              lock={lock}
              unlock={
                auth.user.role === 'admin'
                  ? async (reason) => (channel ? channel.unlock(scan.scanId, reason) : unavailable)
                  : undefined
              }
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
            decisionOf={(id) => decisionByKey.get(decisionKey({ kind: 'finding', id }))?.outcome}
            votes={votes?.values() ?? []}
            onSelect={setSelectedId}
            openVote={actions.openVote}
            onSessionChanged={onSessionChanged}
          />
          {isModerator && (
            <ModeratorPanel
              scans={session.scans}
              currentScanId={scan.scanId}
              summaries={allSummaries}
              votes={votes ?? new Map()}
              members={panelLive ? (panelSnap?.members ?? []) : []}
              live={panelLive}
              onGoto={async (id) => {
                if (!channel) return unavailable;
                const answer = await channel.goto(id);
                // The moderator moves too; followers are moved by the server's session:goto.
                if (answer.ok && id !== scan.scanId)
                  navigate({ name: 'session', sessionId: session.id, scanId: id });
                return answer;
              }}
            />
          )}
        </aside>
      </div>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}
