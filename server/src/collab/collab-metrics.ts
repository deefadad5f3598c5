import type { CloseKey } from '@cxr/shared';

/**
 * What the collaborative core reports for monitoring. Optional everywhere: collab knows no
 * metrics library; main.ts wires an implementation (server/src/ops/metrics.ts).
 */
export interface CollabMetrics {
  /** An update was stored (and is about to be broadcast). */
  updateAccepted(): void;
  /** A connection was closed for what it sent, by close key. */
  updateRefused(reason: CloseKey): void;
  /** From an update's arrival to its broadcast (guard, storage, ordering), in seconds. */
  broadcastLatency(seconds: number): void;
}
