import { ANALYTICS_IDLE_MS } from '../protocol/analytics.js';

/**
 * Active reading time (R-ANALYTICS-2): time counts while the scan is open, the window has focus
 * and the reader's last input was at most `idleMs` ago. Opening the scan and focusing the
 * window are inputs too (both take a click or a key). `tick` only moves the clock, so a caller
 * can ask "how much so far" without inventing input.
 */
export type ActivityKind = 'open' | 'close' | 'focus' | 'blur' | 'input' | 'tick';

export interface ActivityEvent {
  /** Milliseconds on one monotonic clock (performance.now() or Date.now()). */
  readonly at: number;
  readonly kind: ActivityKind;
}

export interface ActiveTimeState {
  readonly open: boolean;
  readonly focused: boolean;
  /** Time of the last input, or null before the first. */
  readonly lastInputAt: number | null;
  /** Time of the last event seen, or null before the first. */
  readonly clock: number | null;
  readonly activeMs: number;
}

/** Closed and focused: a page starts with focus, and nothing counts until a scan opens. */
export const INITIAL_ACTIVE_TIME: ActiveTimeState = {
  open: false,
  focused: true,
  lastInputAt: null,
  clock: null,
  activeMs: 0,
};

/**
 * One step: credits the stretch since the previous event (if the reader was active during it,
 * up to `idleMs` after their last input), then applies the event. Events earlier than the
 * clock (out of order) credit nothing, so the total never goes down or double counts.
 */
export function advanceActiveTime(
  state: ActiveTimeState,
  event: ActivityEvent,
  idleMs: number = ANALYTICS_IDLE_MS,
): ActiveTimeState {
  const now = state.clock === null ? event.at : Math.max(state.clock, event.at);
  let activeMs = state.activeMs;
  if (state.clock !== null && state.open && state.focused && state.lastInputAt !== null) {
    const from = state.clock;
    const to = Math.min(now, state.lastInputAt + idleMs);
    if (to > from) activeMs += to - from;
  }
  let { open, focused, lastInputAt } = state;
  switch (event.kind) {
    case 'open':
      open = true;
      lastInputAt = now;
      break;
    case 'close':
      open = false;
      break;
    case 'focus':
      focused = true;
      lastInputAt = now;
      break;
    case 'blur':
      focused = false;
      break;
    case 'input':
      lastInputAt = now;
      break;
    case 'tick':
      break;
  }
  return { open, focused, lastInputAt, clock: now, activeMs };
}

/**
 * Total active time of a stream of events (in any order: sorted by time first). Add a final
 * `tick` at "now" to count a stretch still running.
 */
export function accumulateActiveTime(
  events: readonly ActivityEvent[],
  idleMs: number = ANALYTICS_IDLE_MS,
): number {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  let state = INITIAL_ACTIVE_TIME;
  for (const event of sorted) state = advanceActiveTime(state, event, idleMs);
  return state.activeMs;
}
