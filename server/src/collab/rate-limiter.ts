/** Where the limiter learns how long the server itself was stalled (StallClock). */
export interface StallSource {
  totalMs(): number;
}

/**
 * Token bucket: `ratePerSecond` sustained, bursts up to twice that. Time the server could not
 * read is not the client's doing: what a client sent during a server pause arrives all at once
 * afterwards, so each pause of a second or more adds its length's worth of tokens above the
 * cap. (Without it, a client sending 200 a second to a server frozen for 4 s was closed with
 * 4429 as the server woke up, and so would every busy client be, all reconnecting at once.)
 * The surplus drains at the refill rate, so it outlives its pause by no more than the pause
 * lasted; shorter delays earn nothing, so a client cannot excuse its own flood with the load
 * it causes unless it stalls the server for a second at a time.
 */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  private stallSeenMs: number;
  private readonly capacity: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly stalls: StallSource,
  ) {
    this.capacity = ratePerSecond * 2;
    this.tokens = this.capacity;
    this.stallSeenMs = stalls.totalMs();
  }

  take(): boolean {
    const now = performance.now();
    const refill = ((now - this.last) / 1000) * this.ratePerSecond;
    this.last = now;
    this.tokens =
      this.tokens > this.capacity
        ? Math.max(this.capacity, this.tokens - refill)
        : Math.min(this.capacity, this.tokens + refill);
    const stalled = this.stalls.totalMs();
    this.tokens += ((stalled - this.stallSeenMs) / 1000) * this.ratePerSecond;
    this.stallSeenMs = stalled;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
