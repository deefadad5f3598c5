import {
  ANALYTICS_BURST,
  ANALYTICS_MIN_INTERVAL_MS,
  ANALYTICS_SEND_INTERVAL_MS,
  type AnalyticsCaptureInput,
} from '@cxr/shared';
import { type AckOutcome, type CaptureBuffer, outcomeOf } from './capture-buffer.js';

/** How a batch went: `{ok: true}` once stored (or known), else the server's or the channel's error. */
export type CaptureAnswer =
  | { ok: true; stored: boolean }
  | { ok: false; error: { code: string; message: string } };

/** Sends a batch over the live panel and resolves with its answer (never rejects). */
export type SendBatch = (batch: AnalyticsCaptureInput) => Promise<CaptureAnswer>;

const MAX_BACKOFF_MS = 30_000;

/**
 * When to send (R-ANALYTICS-1): at most one batch per `ANALYTICS_SEND_INTERVAL_MS`, only when
 * something happened, one at a time. A failed batch is retried after a backoff that starts at
 * the server's sustained rate and doubles; a flush (leaving the scan, signing out, the page
 * going away) sends at once, even beside a batch still waiting for its answer: there may be no
 * later chance, and the server's burst allowance is there for it.
 */
export class CaptureSender {
  /** Batches sent and not answered yet. */
  private waiting = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private retryAt = Number.NEGATIVE_INFINITY;
  private backoffMs = ANALYTICS_MIN_INTERVAL_MS;
  /** Refused batches (content the server will never take), for the hook to report once. */
  dropped = 0;

  constructor(
    private readonly buffer: CaptureBuffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sends the next batch if it is time (or `flush`) and the channel can carry it. */
  pump(send: SendBatch | undefined, flush = false): void {
    const at = this.now();
    this.buffer.tick(at);
    if (!send || (this.waiting > 0 && !flush) || !this.buffer.pending()) return;
    if (at < this.retryAt && !flush) return;
    if (!flush && at - this.lastSentAt < ANALYTICS_SEND_INTERVAL_MS) return;
    // A flush may be the last chance: a batch that failed earlier goes again and what is new
    // goes beside it (not after its answer, which may never come), within the server's burst.
    for (let sent = 0; sent < (flush ? ANALYTICS_BURST : 1); sent++) {
      const batch = this.buffer.next(at);
      if (!batch) return;
      this.waiting++;
      this.lastSentAt = at;
      void send(batch).then((answer) => this.answered(batch.batchId, outcomeOf(answer)));
    }
  }

  private answered(batchId: string, outcome: AckOutcome): void {
    this.waiting--;
    this.buffer.answered(batchId, outcome);
    if (outcome === 'retry') {
      this.retryAt = this.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      return;
    }
    this.backoffMs = ANALYTICS_MIN_INTERVAL_MS;
    this.retryAt = Number.NEGATIVE_INFINITY;
    if (outcome === 'drop') this.dropped++;
    this.buffer.prune();
  }
}
