import type { Server as HttpServer } from 'node:http';
import { CLOSE, type ServerToClientEvents } from '@cxr/shared';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { type RedisClientType, createClient } from 'redis';
import { Server } from 'socket.io';
import { z } from 'zod';
import type { TokenService } from '../auth/tokens.js';
import type { ScanDocPort } from '../collab/scan-doc-port.js';
import type { Config } from '../config.js';
import { type AppendAudit, AuditBatcher, type AuditStore } from '../db/audit-store.js';
import type { Stores } from '../db/stores.js';
import { VotesStore } from '../db/votes-store.js';
import { AnalyticsCaptureService } from './analytics-capture.js';
import { commandTable } from './commands.js';
import { type EmitToSession, type LiveContext, PanelCache } from './context.js';
import { createHandshake } from './handshake.js';
import { type LiveStores, createMemoryLiveStores } from './live-store.js';
import { ModeratorService } from './moderator.js';
import { PresenceTracker } from './presence.js';
import { createRedisLiveStores } from './redis-live-store.js';
import { attachSocketHandlers, sessionRoom, userRoom, userSessionRoom } from './socket.js';
import { VoteService } from './votes.js';

/** What the live panel reports for monitoring (wired in main.ts). */
export interface RealtimeMetrics {
  /** A command was answered: `ok` or the error code. */
  command(event: string, outcome: string): void;
  redisError(client: string): void;
}

export interface RealtimeDeps {
  readonly stores: Stores;
  readonly tokens: TokenService;
  readonly scanDocs: ScanDocPort;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics?: RealtimeMetrics | undefined;
  /** Browser origins allowed to connect (a request without `Origin` is not a browser: allowed). */
  readonly allowOrigin?: ((origin: string, host: string | undefined) => boolean) | undefined;
}

/** A user who lost access: everywhere (disabled, role changed) or in one session (removed). */
export interface Revocation {
  readonly userId: string;
  readonly sessionId?: string | undefined;
  readonly code: 'unauthenticated' | 'forbidden';
  readonly message: string;
}

const REVOKE_EVENT = 'cxr:revoke';

export interface Realtime {
  readonly io: Server;
  readonly backend: LiveStores['kind'];
  readonly audit: AuditStore;
  /** For the Yjs update path: appends `edit` (or other) entries to the scans' audit chains. */
  readonly appendAudit: AppendAudit;
  readonly votes: VoteService;
  /**
   * Tells the user's sockets why (`access:revoked`) and disconnects them, on every node; each
   * node, this one included, then runs the `onRevoke` listeners (closing Yjs connections).
   */
  revoke(revocation: Revocation): void;
  onRevoke(listener: (revocation: Revocation) => void): void;
  /** Sockets connected to this node. */
  readonly localSockets: number;
  /** Resolves when Redis answers a PING (at once without Redis); rejects otherwise. */
  pingRedis(): Promise<void>;
  /** Leaves presence, disconnects sockets, drains the audit queue, closes Redis. */
  close(): Promise<void>;
}

const COMMAND_TTL_MS = 10 * 60_000;

const RevocationSchema = z
  .object({
    userId: z.string().min(1),
    sessionId: z.string().min(1).optional(),
    code: z.enum(['unauthenticated', 'forbidden']),
    message: z.string(),
  })
  .strict();

/**
 * The live panel's socket.io channel on the given HTTP server (path `/socket.io`), with Redis
 * behind it when `config.redisUrl` is set (socket events, presence and votes then span nodes)
 * and an in-process store otherwise.
 */
export async function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps): Promise<Realtime> {
  const { config, stores } = deps;
  const log = deps.log.child({ component: 'realtime' });
  const redis = config.redisUrl
    ? await connectRedis(config.redisUrl, log, (client) => deps.metrics?.redisError(client))
    : undefined;
  const live = redis
    ? createRedisLiveStores(redis.command, {
        prefix: config.redisKeyPrefix,
        presenceTtlMs: config.presenceTtlMs,
        commandTtlMs: COMMAND_TTL_MS,
      })
    : createMemoryLiveStores({ presenceTtlMs: config.presenceTtlMs, commandTtlMs: COMMAND_TTL_MS });

  const io = new Server(httpServer, {
    serveClient: false,
    // Same origin unless CORS_ORIGINS lists more; the handshake carries a token, not a cookie.
    cors: { origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false },
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      const allowed = origin === undefined || !deps.allowOrigin || deps.allowOrigin(origin, req.headers.host);
      callback(allowed ? null : 'origin not allowed', allowed);
    },
    ...(redis
      ? { adapter: createAdapter(redis.pub, redis.sub, { key: `${config.redisKeyPrefix}socket.io` }) }
      : {}),
  });
  const emit: EmitToSession = (sessionId, event, ...args) => {
    io.to(sessionRoom(sessionId)).emit(event, ...args);
  };

  const audit = stores.audit;
  const panels = new PanelCache(stores.sessions, stores.users);
  const ctx: LiveContext = {
    live,
    votes: new VotesStore(stores.db.kysely),
    audit,
    auditBatcher: new AuditBatcher(audit),
    sessions: stores.sessions,
    users: stores.users,
    scanDocs: deps.scanDocs,
    emit,
    log,
    panels,
  };
  const votes = new VoteService(ctx);
  const moderator = new ModeratorService(ctx, votes);
  const presence = new PresenceTracker({
    store: live.presence,
    panels,
    log,
    heartbeatMs: config.presenceHeartbeatMs,
    send: (sessionId, members, local) => {
      const payload: Parameters<ServerToClientEvents['presence:update']>[0] = { members };
      if (local) io.local.to(sessionRoom(sessionId)).emit('presence:update', payload);
      else emit(sessionId, 'presence:update', payload);
    },
  });

  // A stored change to a finding or a global label voids the votes running on it (R-VOTE-4).
  deps.scanDocs.onChange((key, change) => {
    const keys = [
      ...change.findings.map((id) => `finding:${id}`),
      ...change.globals.map((l) => `global:${l}`),
    ];
    if (keys.length === 0) return;
    votes.voidChanged(key, keys).catch((error: unknown) => {
      log.error({ err: error, sessionId: key.sessionId, scanId: key.scanId }, 'voiding votes failed');
    });
  });

  attachSocketHandlers(io, {
    handshake: createHandshake(deps.tokens, stores.users, stores.sessions),
    commands: commandTable(votes, moderator, new AnalyticsCaptureService(stores.analytics)),
    presence,
    cache: live.commands,
    sessions: stores.sessions,
    log,
    onAnswer: (event, answer) => deps.metrics?.command(event, answer.ok ? 'ok' : answer.error.code),
  });

  const revokeListeners: Array<(revocation: Revocation) => void> = [];
  const revokeHere = (revocation: Revocation) => {
    if (revocation.sessionId) panels.forget(revocation.sessionId);
    for (const listener of revokeListeners) listener(revocation);
  };
  // Other nodes forget the panel and close their Yjs connections too.
  io.on(REVOKE_EVENT, (payload: unknown) => {
    const parsed = RevocationSchema.safeParse(payload);
    if (parsed.success) revokeHere(parsed.data);
    else log.warn({ issues: parsed.error.issues.length }, 'malformed revocation from another node');
  });

  let closing: Promise<void> | undefined;
  return {
    revoke(revocation) {
      const room = revocation.sessionId
        ? userSessionRoom(revocation.userId, revocation.sessionId)
        : userRoom(revocation.userId);
      // One Redis connection carries both, in order, so the reason arrives before the disconnect.
      io.in(room).emit('access:revoked', { code: revocation.code, message: revocation.message });
      io.in(room).disconnectSockets(true);
      // Other nodes exist only behind the Redis adapter; the in-memory one cannot emit to them.
      if (redis) io.serverSideEmit(REVOKE_EVENT, revocation);
      revokeHere(revocation);
    },
    onRevoke(listener) {
      revokeListeners.push(listener);
    },
    io,
    backend: live.kind,
    audit,
    appendAudit: (entries) => audit.append(entries),
    votes,
    get localSockets() {
      return io.of('/').sockets.size;
    },
    async pingRedis() {
      if (redis) await redis.command.ping();
    },
    close() {
      closing ??= (async () => {
        await withTimeout(presence.close(), 2_000).catch(() => undefined);
        io.local.emit('server:restarting', { code: CLOSE.RESTARTING.code, reason: 'server restarting' });
        // Close the transports, not the sockets: socket.io never retries a socket the server
        // disconnected ("io server disconnect"), but does retry a lost transport. A polite
        // close sends the event above first.
        for (const socket of io.of('/').sockets.values()) socket.conn.close();
        const deadline = Date.now() + 1_000;
        while (io.of('/').sockets.size > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        // Not io.close(): that would also close the HTTP server, which the HTTP app owns.
        io.engine.close();
        await ctx.auditBatcher.drained();
        if (redis) for (const client of [redis.command, redis.pub, redis.sub]) client.destroy();
      })();
      return closing;
    },
  };
}

type Redis = RedisClientType;

async function connectRedis(
  url: string,
  log: Logger,
  onError: (client: string) => void,
): Promise<{ command: Redis; pub: Redis; sub: Redis }> {
  // Commands fail at once while Redis is away (acked `unavailable`, the client retries) rather
  // than queue up behind a reconnect; the adapter's clients keep the default queue.
  const command: Redis = createClient({ url, disableOfflineQueue: true });
  const pub: Redis = createClient({ url });
  const sub: Redis = pub.duplicate();
  for (const [name, client] of [
    ['command', command],
    ['pub', pub],
    ['sub', sub],
  ] as const) {
    let down = false;
    client.on('error', (error: unknown) => {
      onError(name);
      if (!down) log.warn({ err: error, client: name }, 'redis connection problem');
      down = true;
    });
    client.on('ready', () => {
      if (down) log.info({ client: name }, 'redis connection back');
      down = false;
    });
  }
  await Promise.all([command.connect(), pub.connect(), sub.connect()]);
  return { command, pub, sub };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref()),
  ]);
}
