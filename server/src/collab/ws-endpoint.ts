import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE, type CloseKey, PROTOCOL_VERSION, closeReason } from '@cxr/shared';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { RoomKey } from '../db/doc-store.js';
import { Connection } from './connection.js';
import { WriteCork } from './write-cork.js';
import { decodeFrame } from './frames.js';
import { RateLimiter } from './rate-limiter.js';
import { StallClock } from './stall-clock.js';
import type { Room } from './room.js';
import type { RoomRegistry } from './room-registry.js';
import type { CollabMetrics } from './collab-metrics.js';

export type AccessDecision =
  | { ok: true; userId: string; canWrite: boolean; room: RoomKey }
  | { ok: false; close: CloseKey; detail: string };

/** What a client asked for: a scan's shared document, or its own blind reading of it. */
export interface RoomRequest {
  readonly sessionId: string;
  readonly scanId: string;
  readonly reading: boolean;
}

/**
 * Decides who may open a document, and which one (a blind reading is the caller's own);
 * wired in main.ts from auth and the session store.
 */
export type AuthorizeRoom = (token: string | undefined, request: RoomRequest) => Promise<AccessDecision>;

export interface YjsEndpointOptions {
  readonly registry: RoomRegistry;
  readonly authorize: AuthorizeRoom;
  readonly maxFrameBytes: number;
  readonly maxMessagesPerSecond: number;
  readonly maxPendingMessages: number;
  /** A WebSocket ping this often; a peer that has not answered the previous one is dropped. */
  readonly pingIntervalMs: number;
  readonly log: Logger;
  readonly metrics?: CollabMetrics | undefined;
  /**
   * Browser origins allowed to open a connection; a request without `Origin` (not a browser)
   * is always allowed. Absent: every origin.
   */
  readonly allowOrigin?: ((origin: string, host: string | undefined) => boolean) | undefined;
}

export const YJS_PATH_PREFIX = '/yjs/';
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Open y-websocket connections, for shutdown, metrics and revoking access. */
export interface YjsEndpoint {
  readonly openConnections: number;
  /** Closes a user's connections (disabled, removed from a panel): all, or one session's. */
  closeUser(userId: string, key: CloseKey, detail: string, sessionId?: string): number;
  close(key: CloseKey, detail?: string): Promise<void>;
}

/**
 * Serves scan documents over the y-websocket protocol at `/yjs/<sessionId>/<scanId>` so an
 * unmodified `WebsocketProvider` connects. Access is decided before the room is touched;
 * messages that arrive meanwhile wait in a bounded queue and are then handled one at a time.
 */
export function attachYjsEndpoint(server: Server, options: YjsEndpointOptions): YjsEndpoint {
  // ws enforces a hard cap at twice our limit; between the two we refuse with our own code.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes * 2 });
  const live = new Map<Connection, Room>();
  const cork = new WriteCork();
  // Pauses of the server itself, which neither the rate limit (R-PROTO-4) nor the keepalive
  // (R-PROTO-5) holds against clients.
  const stalls = new StallClock();

  let shuttingDown = false;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(YJS_PATH_PREFIX)) return;
    if (shuttingDown) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, socket));
  };
  server.on('upgrade', onUpgrade);

  let pausedAtLastPing = stalls.totalMs();
  const pinger = setInterval(() => {
    // After a pause of the server itself the pongs may still wait unread (timers run before
    // socket reads): ping again rather than drop every client at once.
    const pausedMs = stalls.totalMs();
    const paused = pausedMs !== pausedAtLastPing;
    pausedAtLastPing = pausedMs;
    for (const ws of wss.clients) {
      if (Reflect.get(ws, 'cxrAlive') === false && !paused) {
        ws.terminate();
        continue;
      }
      Reflect.set(ws, 'cxrAlive', false);
      ws.ping();
    }
  }, options.pingIntervalMs);
  pinger.unref();

  function accept(ws: WebSocket, req: IncomingMessage, raw: Duplex): void {
    Reflect.set(ws, 'cxrAlive', true);
    ws.on('pong', () => Reflect.set(ws, 'cxrAlive', true));
    ws.on('error', (error) => options.log.debug({ err: error }, 'yjs socket error'));
    const early = (key: CloseKey, detail?: string) => ws.close(CLOSE[key].code, closeReason(key, detail));

    // Cross-site WebSocket hijacking: a browser always sends Origin; other clients need not.
    const origin = req.headers.origin;
    if (origin !== undefined && options.allowOrigin && !options.allowOrigin(origin, req.headers.host)) {
      early('FORBIDDEN', 'origin not allowed');
      return;
    }

    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.slice(YJS_PATH_PREFIX.length).split('/');
    const [sessionId, scanId, suffix] = parts;
    const reading = parts.length === 3 && suffix === 'reading';
    if (
      (parts.length !== 2 && !reading) ||
      !sessionId ||
      !scanId ||
      !ID.test(sessionId) ||
      !ID.test(scanId) ||
      scanId.includes(':')
    ) {
      early('INVALID_REQUEST', 'expected /yjs/<sessionId>/<scanId> or /yjs/<sessionId>/<scanId>/reading');
      return;
    }
    const version = url.searchParams.get('v');
    if (version !== null && version !== String(PROTOCOL_VERSION)) {
      early('VERSION_MISMATCH', `server speaks ${PROTOCOL_VERSION}, client ${version.slice(0, 10)}`);
      return;
    }

    // Buffer what arrives while access is checked and the room loads; bounded.
    const pending: Uint8Array[] = [];
    let conn: Connection | undefined;
    let room: Room | undefined;
    let refusedEarly = false;
    const limiter = new RateLimiter(options.maxMessagesPerSecond, stalls);

    const process = (bytes: Uint8Array) => {
      if (!conn || !room || conn.closed) return;
      if (bytes.byteLength > options.maxFrameBytes) {
        options.metrics?.updateRefused('TOO_LARGE');
        conn.close('TOO_LARGE', `frames are limited to ${options.maxFrameBytes} bytes`);
        return;
      }
      const decoded = decodeFrame(bytes);
      if (!decoded.ok) {
        options.log.warn({ room: room.name, conn: conn.id, detail: decoded.detail }, 'bad frame');
        options.metrics?.updateRefused('INVALID_UPDATE');
        conn.close('INVALID_UPDATE', decoded.detail);
        return;
      }
      try {
        room.handle(conn, decoded.frame);
      } catch (error) {
        // A bug, not a bad client: log it, drop this connection, keep the server and room alive.
        options.log.error({ err: error, room: room.name, conn: conn.id }, 'handling a frame failed');
        conn.close('INTERNAL', 'the server could not handle that message');
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (refusedEarly || conn?.closed) return;
      if (!limiter.take()) {
        options.metrics?.updateRefused('RATE_LIMITED');
        if (conn) conn.close('RATE_LIMITED', 'too many messages');
        else {
          refusedEarly = true;
          early('RATE_LIMITED', 'too many messages');
        }
        return;
      }
      const bytes = toBytes(data, isBinary);
      if (conn && room) {
        process(bytes);
        return;
      }
      if (pending.length >= options.maxPendingMessages || bytes.byteLength > options.maxFrameBytes) {
        refusedEarly = true;
        options.metrics?.updateRefused('TOO_LARGE');
        early('TOO_LARGE', 'too much sent before the document was ready');
        return;
      }
      pending.push(bytes);
    });

    ws.on('close', () => {
      if (conn && room) {
        conn.closed = true;
        live.delete(conn);
        room.leave(conn);
        options.registry.release(room);
      }
    });

    void (async () => {
      const decision = await options.authorize(url.searchParams.get('token') ?? undefined, {
        sessionId,
        scanId,
        reading,
      });
      if (ws.readyState !== WebSocket.OPEN || refusedEarly) return;
      if (!decision.ok) {
        early(decision.close, decision.detail);
        return;
      }
      const acquired = await options.registry.acquire(decision.room);
      if (!acquired.ok) {
        early(acquired.close, acquired.detail);
        return;
      }
      if (ws.readyState !== WebSocket.OPEN || refusedEarly) {
        options.registry.release(acquired.room);
        return;
      }
      room = acquired.room;
      conn = new Connection(
        {
          send: (data) => {
            cork.hold(raw);
            ws.send(data);
          },
          close: (code, reason) => ws.close(code, reason),
          get bufferedAmount() {
            return ws.bufferedAmount;
          },
        },
        decision.userId,
        decision.canWrite,
      );
      live.set(conn, room);
      room.join(conn);
      for (const bytes of pending.splice(0)) process(bytes);
    })().catch((error: unknown) => {
      options.log.error({ err: error }, 'opening a scan document failed');
      early('INTERNAL', 'could not open the document');
    });
  }

  return {
    get openConnections() {
      return live.size;
    },
    closeUser(userId, key, detail, sessionId) {
      let count = 0;
      for (const [conn, room] of live) {
        if (conn.userId === userId && (sessionId === undefined || room.key.sessionId === sessionId)) {
          conn.close(key, detail);
          count++;
        }
      }
      return count;
    },
    async close(key, detail) {
      shuttingDown = true;
      clearInterval(pinger);
      stalls.stop();
      for (const ws of wss.clients) ws.close(CLOSE[key].code, closeReason(key, detail));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function toBytes(data: RawData, isBinary: boolean): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // Text frames are not part of the protocol; decoding them as bytes makes them fail cleanly.
  return isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}
