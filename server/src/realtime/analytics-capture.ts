import {
  ANALYTICS_BURST,
  ANALYTICS_MAX_AGE_MS,
  ANALYTICS_MAX_BATCH_BYTES,
  ANALYTICS_MIN_INTERVAL_MS,
  type AnalyticsCapture,
  ok,
} from '@cxr/shared';
import type { AnalyticsStore } from '../db/analytics-store.js';
import { CaptureWriter } from './capture-writer.js';
import type { Actor } from './context.js';
import { type LiveResult, refuse } from './errors.js';
import type { EventLimits } from './event-limits.js';

/** R-ANALYTICS-1: what `analytics:capture` may weigh and how often a socket may send it. */
export const CAPTURE_LIMITS: EventLimits = {
  maxBytes: ANALYTICS_MAX_BATCH_BYTES,
  rate: { intervalMs: ANALYTICS_MIN_INTERVAL_MS, burst: ANALYTICS_BURST },
};

// A client clock a little ahead of `sentAt` is a batch assembled while it was being sent.
const FUTURE_SLACK_MS = 5_000;

/**
 * Stores a reader's capture batch (R-ANALYTICS-3): the reader is the socket's user, never a
 * payload field; only the panel's readers have a reading to report (the moderator and
 * observing admins do not); every scan must be in the session. Any refusal stores nothing.
 */
export class AnalyticsCaptureService {
  private readonly writer: CaptureWriter;
  /** Scans known to be in a session: a scan stays in its session, so one check is enough. */
  private readonly known = new Set<string>();

  constructor(
    private readonly store: AnalyticsStore,
    private readonly now: () => number = Date.now,
  ) {
    this.writer = new CaptureWriter(store);
  }

  async capture(actor: Actor, batch: AnalyticsCapture): Promise<LiveResult<{ stored: boolean }>> {
    if (actor.role !== 'reader') return refuse('forbidden', 'only the panel’s readers report their reading');
    const earliest = batch.sentAt - ANALYTICS_MAX_AGE_MS;
    const latest = batch.sentAt + FUTURE_SLACK_MS;
    const times = batch.scans.flatMap((s) => [
      ...(s.openedAt === undefined ? [] : [s.openedAt]),
      ...s.findingViews.map((v) => v.at),
    ]);
    if (times.some((t) => t < earliest || t > latest))
      return refuse('validation_failed', 'times must lie within the hour before sentAt');
    const key = (scanId: string) => `${actor.sessionId}\u0000${scanId}`;
    const unchecked = batch.scans.map((s) => s.scanId).filter((id) => !this.known.has(key(id)));
    if (unchecked.length > 0) {
      const unknown = await this.store.unknownScans(actor.sessionId, unchecked);
      if (unknown.length > 0) return refuse('not_found', `no such scan in this session: ${unknown[0]}`);
      // Bounded: sessions x scans of one node's lifetime, a few bytes each.
      if (this.known.size > 100_000) this.known.clear();
      for (const id of unchecked) this.known.add(key(id));
    }
    const stored = await this.writer.write({
      sessionId: actor.sessionId,
      userId: actor.userId,
      batch,
      receivedAt: this.now(),
    });
    return ok({ stored });
  }
}
