import { ANALYTICS_CAPTURE_EVENT, type Finding } from '@cxr/shared';
import { useEffect, useLayoutEffect, useRef } from 'react';
import { z } from 'zod';
import { type PanelChannel, newCommandId } from '../collab/panel-channel.js';
import type { ViewerController } from '../viewer/controller.js';
import { CaptureBuffer } from './capture-buffer.js';
import { CaptureSender, type SendBatch } from './capture-sender.js';
import { OwnFindingChanges } from './own-finding-changes.js';
import { ToolUseCounter, capturedView } from './viewer-capture.js';

const CaptureAckSchema = z.object({ ok: z.literal(true), stored: z.boolean() });

/** How often the clock is moved on and a batch considered; sending itself is rarer. */
const PUMP_MS = 1000;
/** Pointer moves are input too, but one a second says all the active-time clock needs. */
const MOVE_INPUT_MS = 1000;

/**
 * One buffer per session and reader for the tab's lifetime, not per mounted scan: the reading
 * workspace remounts on every scan change, and a batch still unacknowledged when the reader
 * moves on must be retried from the next scan with the same id.
 */
const buffers = new Map<string, { buffer: CaptureBuffer; sender: CaptureSender }>();
function captureFor(sessionId: string, userId: string) {
  const key = `${sessionId}\u0000${userId}`;
  let entry = buffers.get(key);
  if (!entry) {
    const buffer = new CaptureBuffer(newCommandId);
    entry = { buffer, sender: new CaptureSender(buffer) };
    buffers.set(key, entry);
  }
  return entry;
}

/**
 * Reading analytics capture for the open scan (R-ANALYTICS-1..3): active time (open, focused,
 * input in the last 30 s), the viewer state whenever this reader creates or changes a
 * finding, and tool uses, sent over the session's live panel in acknowledged batches. Readers
 * only: the moderator and observers have no reading to report (the server refuses them too).
 */
export function useAnalyticsCapture({
  enabled,
  channel,
  sessionId,
  scanId,
  userId,
  controller,
  findings,
}: {
  enabled: boolean;
  channel: PanelChannel | undefined;
  sessionId: string;
  scanId: string;
  userId: string;
  controller: ViewerController;
  findings: readonly Finding[];
}): void {
  const sendRef = useRef<SendBatch | undefined>(undefined);
  const channelRef = useRef(channel);
  channelRef.current = channel;
  sendRef.current = channel
    ? (batch) => channel.command(ANALYTICS_CAPTURE_EVENT, batch, CaptureAckSchema)
    : undefined;
  const trackerRef = useRef<OwnFindingChanges | undefined>(undefined);

  // A layout effect, so its clean-up (the flush on leaving the scan or signing out) runs
  // before the session view's passive clean-up closes the live panel it is sent over.
  useLayoutEffect(() => {
    if (!enabled) return;
    const { buffer, sender } = captureFor(sessionId, userId);
    // Nothing is taken into a batch while the live panel is not connected: a batch that
    // cannot leave would only hold its content back from the next one, and on signing out
    // the flush then has two batches to send to a socket that is closing.
    const pump = (flush = false) =>
      sender.pump(
        channelRef.current?.getSnapshot().state === 'connected' ? sendRef.current : undefined,
        flush,
      );
    const activity = (kind: 'focus' | 'blur' | 'input') => buffer.activity(scanId, kind, Date.now());
    buffer.activity(scanId, 'open', Date.now());
    if (!document.hasFocus()) activity('blur');
    trackerRef.current = new OwnFindingChanges(userId, Date.now());

    let lastMove = 0;
    const onInput = () => activity('input');
    const onMove = () => {
      const now = Date.now();
      if (now - lastMove < MOVE_INPUT_MS) return;
      lastMove = now;
      activity('input');
    };
    const onFocus = () => activity('focus');
    const onBlur = () => activity('blur');
    const onVisibility = () => {
      if (document.visibilityState !== 'hidden') return;
      activity('blur');
      pump(true);
    };
    const onPageHide = () => {
      buffer.activity(scanId, 'close', Date.now());
      pump(true);
    };
    const inputs = ['pointerdown', 'keydown', 'wheel'] as const;
    for (const e of inputs) window.addEventListener(e, onInput, { capture: true, passive: true });
    window.addEventListener('pointermove', onMove, { capture: true, passive: true });
    window.addEventListener('focus', onFocus);
    window.addEventListener('blur', onBlur);
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('pagehide', onPageHide);

    const counter = new ToolUseCounter();
    let prev = controller.getState();
    const unsubscribe = controller.subscribe(() => {
      const next = controller.getState();
      for (const tool of counter.uses(prev, next, Date.now())) buffer.tool(scanId, tool);
      prev = next;
    });
    const timer = setInterval(() => pump(), PUMP_MS);
    return () => {
      clearInterval(timer);
      unsubscribe();
      for (const e of inputs) window.removeEventListener(e, onInput, { capture: true });
      window.removeEventListener('pointermove', onMove, { capture: true });
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('blur', onBlur);
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('pagehide', onPageHide);
      buffer.activity(scanId, 'close', Date.now());
      trackerRef.current = undefined;
      pump(true);
    };
  }, [enabled, sessionId, userId, scanId, controller]);

  useEffect(() => {
    const tracker = trackerRef.current;
    if (!enabled || !tracker) return;
    const { buffer } = captureFor(sessionId, userId);
    const at = Date.now();
    for (const change of tracker.changes(findings)) {
      buffer.findingView(scanId, { ...change, at, view: capturedView(controller.getState()) });
      buffer.tool(scanId, change.action === 'created' ? 'draw' : 'edit');
    }
  }, [enabled, findings, sessionId, userId, scanId, controller]);
}
