import { PROTOCOL_VERSION } from '@cxr/shared';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A real, unmodified y-websocket client in Node, with what tests need to observe it. */
export class TestClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly closes: Closed[] = [];

  constructor(
    baseUrl: string,
    sessionId: string,
    scanId: string,
    token: string | undefined,
    options: { doc?: Y.Doc; connect?: boolean; params?: Record<string, string> } = {},
  ) {
    this.doc = options.doc ?? new Y.Doc();
    const params: Record<string, string> = { v: String(PROTOCOL_VERSION), ...options.params };
    if (token !== undefined) params.token = token;
    this.provider = new WebsocketProvider(
      `${baseUrl.replace(/^http/, 'ws')}/yjs`,
      `${sessionId}/${scanId}`,
      this.doc,
      {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        // Same-process clients would otherwise talk through BroadcastChannel and bypass the server.
        disableBc: true,
        params,
        connect: options.connect ?? true,
        maxBackoffTime: 300,
      },
    );
    this.provider.on('connection-close', (event: { code: number; reason: string } | null) => {
      if (event) this.closes.push({ code: event.code, reason: event.reason });
    });
  }

  get synced(): boolean {
    return this.provider.synced;
  }

  /** Resolves on the first close the server sends; stops the client from reconnecting. */
  async closedByServer(timeoutMs = 5000): Promise<Closed> {
    const started = Date.now();
    while (this.closes.length === 0) {
      if (Date.now() - started > timeoutMs) throw new Error('server did not close the connection');
      await new Promise((r) => setTimeout(r, 10));
    }
    this.provider.shouldConnect = false;
    return this.closes[0]!;
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}

/** Polls until `predicate` holds (no fixed sleeps in assertions). */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The document's content with keys sorted (map iteration order differs between replicas). */
export function docJson(doc: Y.Doc): unknown {
  const sorted = (map: Y.Map<unknown>) =>
    Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    findings: sorted(doc.getMap('findings')),
    globals: sorted(doc.getMap('globals')),
    progress: sorted(doc.getMap('progress')),
    decisions: sorted(doc.getMap('decisions')),
    meta: sorted(doc.getMap('meta')),
  };
}
