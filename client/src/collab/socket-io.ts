import { PROTOCOL_VERSION } from '@cxr/shared';
import { io } from 'socket.io-client';
import type { ChannelSocket } from './panel-channel.js';

const PROBE_INTERVAL_MS = 10_000;

/**
 * Whether the server serves the live panel, without opening a socket: `/api/health` says so
 * (`live`). Asking engine.io itself would fail on every visit (it answers a plain request with
 * 400), and a server without the panel answers `live: false`, 404 or its single-page fallback.
 */
async function liveEndpointExists(): Promise<boolean> {
  try {
    const response = await fetch('/api/health', { cache: 'no-store' });
    if (!response.ok) return false;
    const body: unknown = await response.json().catch(() => undefined);
    return typeof body === 'object' && body !== null && Reflect.get(body, 'live') === true;
  } catch {
    // Network down: let socket.io try and report it through its own backoff.
    return true;
  }
}

/**
 * The real socket for {@link PanelChannel}: socket.io on the page's own origin, with the
 * handshake the server checks (`{token, v, sessionId}`).
 *
 * WebSocket only: long-polling would need sticky routing, and the entry point spreads
 * `/socket.io` requests over the nodes. The endpoint is probed over HTTP first because a
 * server without it leaves the WebSocket upgrade hanging, and Chromium lets only one WebSocket
 * per host be "connecting" at a time: a hanging panel socket would hold up the scan
 * document's socket. Reconnection uses socket.io's backoff, capped so a returning server is
 * found within a few seconds.
 */
export function socketIoChannel(token: string, sessionId: string): ChannelSocket {
  const socket = io({
    auth: { token, v: PROTOCOL_VERSION, sessionId },
    transports: ['websocket'],
    autoConnect: false,
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
    // An attempt whose socket closes before the engine.io handshake (a proxy or a restarting
    // node accepting then dropping it) only ends at this timeout: socket.io waits for "open"
    // or "error", not "close". A healthy handshake takes milliseconds.
    timeout: 4000,
  });
  const missing = new Set<(error: unknown) => void>();
  let stopped = false;
  /** Until the probe finds the endpoint, socket.io itself has not started. */
  let probing = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = async () => {
    timer = undefined;
    if (stopped) return;
    if (await liveEndpointExists()) {
      probing = false;
      if (!stopped) socket.connect();
      return;
    }
    const error = Object.assign(new Error('this server has no live panel yet'), {
      data: { code: 'unavailable' },
    });
    for (const l of missing) l(error);
    if (!stopped) timer = setTimeout(start, PROBE_INTERVAL_MS);
  };
  queueMicrotask(start);
  return {
    get connected() {
      return socket.connected;
    },
    get active() {
      // While probing, the channel is still trying; after that socket.io knows.
      return stopped ? false : probing || socket.active;
    },
    on: (event, listener) => {
      if (event === 'connect_error') missing.add(listener);
      socket.on(event, listener);
    },
    emit: (event, payload, ack) => {
      socket.emit(event, payload, ack);
    },
    connect: () => {
      stopped = false;
      if (probing && timer === undefined) void start();
      else if (!probing) socket.connect();
    },
    disconnect: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      socket.disconnect();
    },
  };
}
