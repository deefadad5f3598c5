/** Token bucket: `ratePerSecond` sustained, bursts up to twice that. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private readonly capacity: number;

  constructor(private readonly ratePerSecond: number) {
    this.capacity = ratePerSecond * 2;
    this.tokens = this.capacity;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
