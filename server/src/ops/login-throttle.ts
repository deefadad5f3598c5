/** How many failures a key may have within the window before it must wait. */
export interface ThrottleLimits {
  readonly windowMs: number;
  readonly maxPerAccount: number;
  readonly maxPerAddress: number;
}

export type ThrottleDecision =
  | { ok: true }
  | { ok: false; scope: 'account' | 'address'; retryAfterS: number };

/** Keys kept at most; past it the oldest are forgotten, so a flood cannot exhaust memory. */
const MAX_KEYS = 50_000;

/**
 * Failed logins per account (username, case-folded) and per client address, over a sliding
 * window. A key at its limit is refused until its oldest failure leaves the window; a success
 * clears the account's failures but not the address's (one address guessing many accounts is
 * the attack the address limit is for). In memory, per node: several nodes each allow the limit.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly onRefused: (scope: 'account' | 'address') => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an attempt may proceed; checked before the password is, so refusals cost nothing. */
  check(username: string, address: string): ThrottleDecision {
    const account = this.wait(accountKey(username), this.limits.maxPerAccount);
    const byAddress = this.wait(addressKey(address), this.limits.maxPerAddress);
    if (account === 0 && byAddress === 0) return { ok: true };
    this.onRefused(account >= byAddress ? 'account' : 'address');
    return account >= byAddress
      ? { ok: false, scope: 'account', retryAfterS: Math.ceil(account / 1000) }
      : { ok: false, scope: 'address', retryAfterS: Math.ceil(byAddress / 1000) };
  }

  failed(username: string, address: string): void {
    this.record(accountKey(username));
    this.record(addressKey(address));
  }

  succeeded(username: string): void {
    this.failures.delete(accountKey(username));
  }

  /** Milliseconds until the key is under its limit again (0: it is now). */
  private wait(key: string, max: number): number {
    const times = this.recent(key);
    if (times.length < max) return 0;
    const oldestThatCounts = times[times.length - max] ?? this.now();
    return Math.max(1, oldestThatCounts + this.limits.windowMs - this.now());
  }

  private record(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    // Re-insert so the map's order is least recently failed first, for eviction.
    this.failures.delete(key);
    this.failures.set(key, times);
    while (this.failures.size > MAX_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }
}

const accountKey = (username: string) => `u:${username.toLowerCase()}`;
const addressKey = (address: string) => `a:${address}`;
