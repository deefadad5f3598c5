import { useEffect, useState, useSyncExternalStore } from 'react';
import { type ConnectionSnapshot, type Presence, ScanConnection, type ScanRoom } from './scan-connection.js';

const noopSubscribe = () => () => {};
const noSnapshot = () => undefined;

/**
 * Opens the scan's connection for as long as the component is mounted (one per room and
 * token; StrictMode's double effect disposes the first before the second opens).
 */
export function useScanConnection(
  room: ScanRoom,
): { connection: ScanConnection; snapshot: ConnectionSnapshot } | undefined {
  const { sessionId, scanId, token, userId, wsBase } = room;
  const [connection, setConnection] = useState<ScanConnection | undefined>();
  useEffect(() => {
    const c = new ScanConnection({ sessionId, scanId, token, userId, wsBase });
    setConnection(c);
    return () => {
      c.dispose();
      setConnection(undefined);
    };
  }, [sessionId, scanId, token, userId, wsBase]);
  const snapshot = useSyncExternalStore(
    connection ? connection.subscribe : noopSubscribe,
    connection ? connection.getSnapshot : noSnapshot,
  );
  return connection && snapshot ? { connection, snapshot } : undefined;
}

export interface PeerPresence extends Presence {
  readonly clientId: number;
}

/** The other members' awareness states, refreshed on every awareness change. */
export function usePeers(connection: ScanConnection | undefined, generation: number): PeerPresence[] {
  const [peers, setPeers] = useState<PeerPresence[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new generation means a new provider
  useEffect(() => {
    const awareness = connection?.awareness;
    if (!awareness) {
      setPeers([]);
      return;
    }
    const read = () => {
      const out: PeerPresence[] = [];
      for (const [clientId, state] of awareness.getStates()) {
        if (clientId === awareness.clientID) continue;
        const presence = parsePresence(state);
        if (presence) out.push({ ...presence, clientId });
      }
      setPeers(out);
    };
    read();
    awareness.on('change', read);
    return () => awareness.off('change', read);
  }, [connection, generation]);
  return peers;
}

function parsePresence(state: unknown): Presence | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const { user, cursor } = state as { user?: unknown; cursor?: unknown };
  if (typeof user !== 'object' || user === null) return undefined;
  const u = user as Record<string, unknown>;
  if (typeof u.id !== 'string' || typeof u.name !== 'string' || typeof u.color !== 'string') return undefined;
  let c: Presence['cursor'] = null;
  if (typeof cursor === 'object' && cursor !== null) {
    const { x, y } = cursor as Record<string, unknown>;
    if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y))
      c = { x, y };
  }
  return { user: { id: u.id, name: u.name, color: u.color }, cursor: c };
}

/** Calls `fn` at most every `ms`, always delivering the last value (trailing edge). */
export function throttle<T>(fn: (value: T) => void, ms: number): (value: T) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  return (value: T) => {
    const now = Date.now();
    const wait = ms - (now - last);
    if (wait <= 0) {
      last = now;
      fn(value);
      return;
    }
    pending = { value };
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        if (pending) fn(pending.value);
        pending = undefined;
      }, wait);
    }
  };
}
