import {
  ANALYTICS_MAX_ACTIVE_MS,
  ANALYTICS_MAX_AGE_MS,
  ANALYTICS_MAX_BATCH_BYTES,
  ANALYTICS_MAX_FINDING_VIEWS,
  ANALYTICS_MAX_SCANS,
  ANALYTICS_MAX_TOOLS,
  type ActiveTimeState,
  type ActivityKind,
  type AnalyticsCaptureInput,
  type FindingView,
  INITIAL_ACTIVE_TIME,
  type ScanCapture,
  advanceActiveTime,
} from '@cxr/shared';

/**
 * What a reader's client has seen of its own reading and not yet had acknowledged
 * (R-ANALYTICS-1..3), as pure state: the hook feeds it events and a clock, asks it for the
 * next batch and tells it how the server answered. No timers, no socket, no DOM here, so the
 * batching, the bounds and the retry rules are unit-tested with plain numbers.
 *
 * Normally one batch is in flight at a time; a flush (leaving the scan, signing out) may send
 * what is new while an earlier batch still waits, since there may be no later chance. A batch
 * that got no answer (or `rate_limited`) is sent again with the same `batchId`, so the server
 * stores it once however often it arrives; a batch the server refused for its content is
 * dropped, since sending it again cannot help.
 */

interface ScanEntry {
  active: ActiveTimeState;
  /** Active time already put into a batch (sent or in flight). */
  takenMs: number;
  /** Set when the scan was opened and not yet reported. */
  openedAt: number | undefined;
  readonly tools: Map<string, number>;
  /** Latest view per finding and action (the server keeps only the latest one too). */
  readonly views: Map<string, FindingView>;
}

interface Unacked {
  batch: AnalyticsCaptureInput;
  /** When its content was taken: past the server's age window it can only be refused. */
  readonly takenAt: number;
  /** Sent and waiting for its answer (else it failed and waits to be sent again). */
  sending: boolean;
}

/** What the server's answer means for the batch in flight. */
export type AckOutcome = 'stored' | 'retry' | 'drop';

/** Codes worth trying again later with the same batch; any other refusal is final. */
const RETRYABLE = new Set(['unavailable', 'rate_limited', 'bad_response', 'internal', 'disconnected']);

export function outcomeOf(answer: { ok: true } | { ok: false; error: { code: string } }): AckOutcome {
  if (answer.ok) return 'stored';
  return RETRYABLE.has(answer.error.code) ? 'retry' : 'drop';
}

// Leaves room for the envelope and the ids' length; the byte check below is the real bound.
const VIEWS_PER_BATCH = 40;
// A minute short of the server's window, so a retried batch is not refused for its age.
const MAX_RETRY_AGE_MS = ANALYTICS_MAX_AGE_MS - 60_000;

const encoder = new TextEncoder();
export function batchBytes(batch: AnalyticsCaptureInput): number {
  return encoder.encode(JSON.stringify(batch)).length;
}

export class CaptureBuffer {
  private readonly scans = new Map<string, ScanEntry>();
  /** Batches sent and not yet acknowledged, oldest first. */
  private readonly unacked = new Map<string, Unacked>();

  constructor(private readonly newId: () => string) {}

  /** Feeds one activity event (R-ANALYTICS-2) to a scan's active-time clock. */
  activity(scanId: string, kind: ActivityKind, at: number): void {
    const entry = this.entry(scanId);
    entry.active = advanceActiveTime(entry.active, { kind, at });
    if (kind === 'open') entry.openedAt = at;
  }

  /** Moves every scan's clock to `at`, crediting the stretch still running. */
  tick(at: number): void {
    for (const entry of this.scans.values())
      entry.active = advanceActiveTime(entry.active, { kind: 'tick', at });
  }

  tool(scanId: string, name: string, uses = 1): void {
    const tools = this.entry(scanId).tools;
    tools.set(name, (tools.get(name) ?? 0) + uses);
  }

  findingView(scanId: string, view: FindingView): void {
    const views = this.entry(scanId).views;
    const key = `${view.action}\u0000${view.findingId}`;
    // Re-inserted so the map's order stays "oldest change first" for the batches.
    views.delete(key);
    views.set(key, view);
  }

  /** A batch waits for its answer. */
  get busy(): boolean {
    for (const u of this.unacked.values()) if (u.sending) return true;
    return false;
  }

  /** Something happened that no batch carries yet, or a failed batch waits to be sent again. */
  pending(): boolean {
    for (const u of this.unacked.values()) if (!u.sending) return true;
    for (const e of this.scans.values()) if (this.hasNews(e)) return true;
    return false;
  }

  /**
   * The batch to send now: a failed one again (same id, `sentAt` renewed so the server's
   * clock correction stays right) or a new one from what is pending; undefined when there is
   * nothing to say. Whatever goes into a new batch is no longer pending.
   */
  next(at: number): AnalyticsCaptureInput | undefined {
    for (const [id, u] of this.unacked) {
      if (u.sending) continue;
      if (at - u.takenAt > MAX_RETRY_AGE_MS) {
        this.unacked.delete(id);
        continue;
      }
      u.batch = { ...u.batch, sentAt: at };
      u.sending = true;
      return u.batch;
    }
    const scans: ScanCapture[] = [];
    let viewBudget = VIEWS_PER_BATCH;
    for (const [scanId, entry] of this.scans) {
      if (scans.length >= ANALYTICS_MAX_SCANS) break;
      if (!this.hasNews(entry)) continue;
      const activeMs = Math.min(ANALYTICS_MAX_ACTIVE_MS, Math.floor(entry.active.activeMs - entry.takenMs));
      entry.takenMs += activeMs;
      const tools: Record<string, number> = {};
      for (const [name, uses] of [...entry.tools].slice(0, ANALYTICS_MAX_TOOLS)) {
        tools[name] = uses;
        entry.tools.delete(name);
      }
      const findingViews: FindingView[] = [];
      for (const [key, view] of entry.views) {
        if (findingViews.length >= Math.min(viewBudget, ANALYTICS_MAX_FINDING_VIEWS)) break;
        findingViews.push(view);
        entry.views.delete(key);
      }
      viewBudget -= findingViews.length;
      const scan: ScanCapture = { scanId, activeMs, tools, findingViews };
      if (entry.openedAt !== undefined) scan.openedAt = entry.openedAt;
      entry.openedAt = undefined;
      scans.push(scan);
    }
    if (scans.length === 0) return undefined;
    const batch: AnalyticsCaptureInput = { batchId: this.newId(), sentAt: at, scans };
    this.shrinkToFit(batch);
    this.unacked.set(batch.batchId, { batch, takenAt: at, sending: true });
    return batch;
  }

  /** The server's answer to a batch sent (an answer to an unknown id is ignored). */
  answered(batchId: string, outcome: AckOutcome): void {
    const u = this.unacked.get(batchId);
    if (!u) return;
    if (outcome === 'retry') u.sending = false;
    else this.unacked.delete(batchId);
  }

  /** Forgets a scan that is closed and fully reported (keeps the map small over a long session). */
  prune(): void {
    for (const [id, e] of this.scans) if (!e.active.open && !this.hasNews(e)) this.scans.delete(id);
  }

  private hasNews(e: ScanEntry): boolean {
    return (
      Math.floor(e.active.activeMs - e.takenMs) > 0 ||
      e.tools.size > 0 ||
      e.views.size > 0 ||
      e.openedAt !== undefined
    );
  }

  /**
   * Long finding ids could push a full batch past the server's byte bound: views are handed
   * back to their scans (for the next batch) until it fits.
   */
  private shrinkToFit(batch: AnalyticsCaptureInput): void {
    while (batchBytes(batch) > ANALYTICS_MAX_BATCH_BYTES) {
      const scan = [...batch.scans].reverse().find((s) => (s.findingViews?.length ?? 0) > 0);
      const view = scan?.findingViews?.pop();
      if (!scan || !view) return;
      this.findingView(scan.scanId, view);
    }
  }

  private entry(scanId: string): ScanEntry {
    let entry = this.scans.get(scanId);
    if (!entry) {
      entry = {
        active: INITIAL_ACTIVE_TIME,
        takenMs: 0,
        openedAt: undefined,
        tools: new Map(),
        views: new Map(),
      };
      this.scans.set(scanId, entry);
    }
    return entry;
  }
}
