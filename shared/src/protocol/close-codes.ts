/**
 * The one table of WebSocket close codes the server uses on `/yjs/...` connections.
 * `retryable: false` codes are fatal: a client must stop reconnecting and show the reason
 * (and, for a refused update, discard the local change that caused it).
 */
export const CLOSE = {
  INVALID_REQUEST: { code: 4400, reason: 'invalid request', retryable: false },
  UNAUTHENTICATED: { code: 4401, reason: 'unauthenticated', retryable: false },
  FORBIDDEN: { code: 4403, reason: 'forbidden', retryable: false },
  NOT_FOUND: { code: 4404, reason: 'not found', retryable: false },
  LOCKED: { code: 4409, reason: 'scan locked', retryable: false },
  /** The update depends on changes the server has not seen: reconnect and resync. */
  RESYNC: { code: 4412, reason: 'resync needed', retryable: true },
  TOO_LARGE: { code: 4413, reason: 'frame too large', retryable: false },
  INVALID_UPDATE: { code: 4422, reason: 'invalid update', retryable: false },
  VERSION_MISMATCH: { code: 4426, reason: 'protocol version mismatch', retryable: false },
  RATE_LIMITED: { code: 4429, reason: 'rate limited', retryable: true },
  INTERNAL: { code: 4500, reason: 'internal error', retryable: true },
  RESTARTING: { code: 4503, reason: 'restarting', retryable: true },
} as const;

export type CloseKey = keyof typeof CLOSE;
export type CloseCode = (typeof CLOSE)[CloseKey]['code'];

const byCode = new Map<number, (typeof CLOSE)[CloseKey] & { key: CloseKey }>(
  (Object.keys(CLOSE) as CloseKey[]).map((key) => [CLOSE[key].code, { ...CLOSE[key], key }]),
);

/** Looks a close code up; codes outside the table (1000, 1006, 1009 ...) give undefined. */
export function describeClose(code: number) {
  return byCode.get(code);
}

/**
 * A WebSocket close reason is at most 123 bytes of UTF-8. The server sends
 * `<table reason>: <detail>`, cut to fit.
 */
export function closeReason(key: CloseKey, detail?: string): string {
  const base = CLOSE[key].reason;
  const text = detail ? `${base}: ${detail}` : base;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > 120) return `${out}...`;
    out += ch;
    bytes += size;
  }
  return out;
}
