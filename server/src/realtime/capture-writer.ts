import type { AnalyticsStore, StoredBatch } from '../db/analytics-store.js';

/**
 * Coalesces capture batches from every socket into one transaction per `delayMs` (R-ANALYTICS-4):
 * fifty readers' batches a second cost one commit instead of fifty, which is what keeps the
 * capture within a few percent of the panel's CPU. Each caller still learns its own result;
 * a failed transaction fails every batch in it (nothing of them is stored).
 */
export class CaptureWriter {
  private queue: Array<{ batch: StoredBatch; resolve: (v: boolean) => void; reject: (e: unknown) => void }> =
    [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AnalyticsStore,
    private readonly delayMs = 50,
  ) {}

  write(batch: StoredBatch): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const pending = this.queue;
    this.queue = [];
    try {
      const results = await this.store.recordMany(pending.map((p) => p.batch));
      for (const [i, p] of pending.entries()) p.resolve(results[i] ?? false);
    } catch (error) {
      for (const p of pending) p.reject(error);
    }
  }
}
