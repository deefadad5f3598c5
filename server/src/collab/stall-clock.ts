/**
 * How long, in all, this process has been paused for at least `minStallMs` at a time: an
 * event-loop stall (a long task, a garbage-collection pause) or a whole-process pause (a frozen
 * VM, SIGSTOP). Read at any moment, it includes a pause still being caught up on, so a socket
 * read that drains what piled up meanwhile already sees it, even when the read runs before any
 * timer. Shorter delays are ordinary load and count for nothing.
 */
export class StallClock {
  private lastTick = performance.now();
  private settledMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly minStallMs = 1000,
    private readonly periodMs = 100,
  ) {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.settledMs += this.counted(now - this.lastTick - this.periodMs);
      this.lastTick = now;
    }, periodMs);
    this.timer.unref();
  }

  /** Milliseconds paused so far; never decreases. */
  totalMs(): number {
    return this.settledMs + this.counted(performance.now() - this.lastTick - this.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private counted(lateMs: number): number {
    return lateMs >= this.minStallMs ? lateMs : 0;
  }
}
