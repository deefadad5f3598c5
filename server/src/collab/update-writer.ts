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

/**
 * Stores accepted updates before anyone else sees them. Every update enqueued in one event-loop
 * turn goes into one transaction; callers get the sequence number once it is durable, in
 * enqueue order (or `locked` when the database refused a panel member's edit because the
 * scan was locked meanwhile, possibly by another node). A failed write is retried with backoff and never dropped: the document keeps
 * the change in memory meanwhile, and nothing is broadcast until it is stored.
 */
export class UpdateWriter {
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  private retryMs = RETRY_MIN_MS;
  private idleWaiters: Array<() => void> = [];

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
    else setImmediate(run);
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
