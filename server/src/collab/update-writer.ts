import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AppendResult, StoredUpdate } from '../db/doc-store.js';

/** Where accepted updates go; DocStore in production. */
export interface UpdateSink {
  append(batch: readonly StoredUpdate[]): Promise<AppendResult[]>;
}

interface Pending {
  readonly update: StoredUpdate;
  readonly resolve: (result: AppendResult) => void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
/** How often the event loop's busy share is read to choose between the two ways of flushing. */
const LOAD_SAMPLE_MS = 100;
/** Above this busy share, updates wait for the end of the event-loop turn and share a commit. */
const BUSY_SHARE = 0.5;

/**
 * Stores accepted updates before anyone else sees them. What is enqueued together goes into one
 * transaction: on a busy server everything of one event-loop turn, on a quiet one what came
 * with the same frame (R-STORE-7). Callers get the sequence number once it is durable, in
 * enqueue order (or `locked` when the database refused a panel member's edit because the
 * scan was locked meanwhile, possibly by another node). A failed write is retried with
 * backoff and never dropped: the document keeps the change in memory meanwhile, and nothing
 * is broadcast until it is stored.
 */
export class UpdateWriter {
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  private retryMs = RETRY_MIN_MS;
  private idleWaiters: Array<() => void> = [];
  private lastLoad = performance.eventLoopUtilization();
  private lastLoadAt = performance.now();
  private busy = false;

  constructor(
    private readonly sink: UpdateSink,
    private readonly log: Logger,
  ) {}

  write(update: StoredUpdate): Promise<AppendResult> {
    return new Promise((resolve) => {
      this.queue.push({ update, resolve });
      this.schedule();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when everything enqueued so far is stored (for shutdown and locks). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(delayMs = 0): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (delayMs > 0) setTimeout(run, delayMs);
    else if (this.isBusy()) setImmediate(run);
    else queueMicrotask(run);
  }

  /**
   * Whether the event loop was more than half busy over the last sample. A quiet server stores
   * each update as soon as the frame that carried it is handled: a move then waits for no
   * other socket's frames, only for its own commit (50 busy rooms: p99 0.65-1.45x of waiting
   * for the turn's end over six rounds, five of them below 1x, for 3-5% more of a core). A
   * busy one lets every update of the turn share one commit, since a commit per update would
   * cost the event loop more than it has.
   */
  private isBusy(): boolean {
    const now = performance.now();
    if (now - this.lastLoadAt >= LOAD_SAMPLE_MS) {
      const load = performance.eventLoopUtilization();
      this.busy = performance.eventLoopUtilization(load, this.lastLoad).utilization > BUSY_SHARE;
      this.lastLoad = load;
      this.lastLoadAt = now;
    }
    return this.busy;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue;
    this.queue = [];
    try {
      const results = await this.sink.append(batch.map((p) => p.update));
      this.retryMs = RETRY_MIN_MS;
      for (const [i, p] of batch.entries()) p.resolve(results[i] ?? 0);
    } catch (error) {
      this.log.error(
        { err: error, updates: batch.length },
        'storing updates failed; keeping them and retrying',
      );
      this.queue = batch.concat(this.queue);
      this.running = false;
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.schedule(delay);
      return;
    }
    this.running = false;
    if (this.queue.length > 0) this.schedule();
    else {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
