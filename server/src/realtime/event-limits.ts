import type { LiveError } from './errors.js';

/** Per-event bounds beyond the schema: bytes of the payload and a rate per socket. */
export interface EventLimits {
  readonly maxBytes?: number;
  /** One event per `intervalMs` sustained, bursts of `burst`. */
  readonly rate?: { readonly intervalMs: number; readonly burst: number };
}

/**
 * Token bucket for one socket and event. Wall clock (Date.now) rather than a monotonic one so
 * tests can reason in whole seconds; a clock step only ever makes it stricter or laxer once.
 */
export class EventBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: NonNullable<EventLimits['rate']>,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = rate.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + Math.max(0, t - this.last) / this.rate.intervalMs);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** UTF-8 bytes of the payload as JSON, the way it travelled (socket.io sends JSON text). */
export function payloadBytes(payload: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(payload) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The refusal for a payload over its limits, checked before the schema (cheap first). */
export function overLimits(
  limits: EventLimits,
  payload: unknown,
  bucket: EventBucket | undefined,
): LiveError | undefined {
  if (bucket && !bucket.take())
    return { code: 'rate_limited', message: 'sent too often; nothing was stored, send it again later' };
  if (limits.maxBytes !== undefined && payloadBytes(payload) > limits.maxBytes)
    return { code: 'payload_too_large', message: `the payload is larger than ${limits.maxBytes} bytes` };
  return undefined;
}
