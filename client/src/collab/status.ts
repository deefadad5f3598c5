import { CLOSE, describeClose } from '@cxr/shared';

/**
 * What the status bar shows (STYLE habit 8: loading | synced | offline | error, plus the two
 * states a reading room cares about: locked and refused).
 */
export type SyncState = 'connecting' | 'synced' | 'offline' | 'locked' | 'refused';

export interface Refusal {
  readonly code: number;
  readonly reason: string;
  /** The local copy of the scan was discarded and reloaded from the server. */
  readonly discarded: boolean;
  /** The client stopped trying; a user action (reload, log in) is needed. */
  readonly stopped: boolean;
}

export interface ConnectionStatus {
  readonly state: SyncState;
  readonly refusal?: Refusal;
}

/** What to do after the server closed the socket. */
export type CloseAction =
  /** Keep the local doc and let the provider reconnect with backoff. */
  | { readonly kind: 'retry' }
  /** The server refused something this doc sent: drop the local copy, resync once. */
  | { readonly kind: 'discard-and-resync' }
  /** Reconnecting cannot help (auth, version, size): stop and show why. */
  | { readonly kind: 'stop' };

const DISCARDING: ReadonlySet<number> = new Set([
  CLOSE.INVALID_UPDATE.code,
  CLOSE.FORBIDDEN.code,
  CLOSE.LOCKED.code,
]);

/**
 * Codes outside the table (1000, 1001, 1006 ...) are transport events and retried; table codes
 * follow their `retryable` flag. A refused update (4422, 4403, 4409) also poisons the local doc:
 * y-websocket would send the refused change again in sync step 2 on every reconnect.
 */
export function classifyClose(code: number): CloseAction {
  const known = describeClose(code);
  if (!known || known.retryable) return { kind: 'retry' };
  return DISCARDING.has(code) ? { kind: 'discard-and-resync' } : { kind: 'stop' };
}

/** A short sentence for the banner: the table's name for the code, then the server's detail. */
export function describeRefusal(code: number, reason: string): string {
  const known = describeClose(code);
  const detail = reason.trim();
  if (!known) return detail || `connection closed (${code})`;
  if (!detail || detail === known.reason) return `${known.reason} (${code})`;
  return detail.startsWith(known.reason) ? `${detail} (${code})` : `${known.reason}: ${detail} (${code})`;
}

export interface StatusInputs {
  readonly connected: boolean;
  readonly synced: boolean;
  readonly everSynced: boolean;
  /** A connection attempt has closed since this doc opened (the network or server is down). */
  readonly attemptFailed: boolean;
  readonly browserOnline: boolean;
  readonly locked: boolean;
  readonly refusal: Refusal | undefined;
}

/** One place decides the state shown, so the banner and `data-sync-state` never disagree. */
export function deriveStatus(i: StatusInputs): ConnectionStatus {
  const refusal = i.refusal ? { refusal: i.refusal } : {};
  if (i.refusal?.stopped) return { state: 'refused', ...refusal };
  if (i.locked && i.synced) return { state: 'locked', ...refusal };
  if (i.connected && i.synced) return { state: 'synced', ...refusal };
  if (!i.browserOnline || i.everSynced || i.attemptFailed)
    return { state: i.locked ? 'locked' : 'offline', ...refusal };
  return { state: 'connecting', ...refusal };
}
