import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRoomAccess } from './auth/room-access.js';
import { TokenService, loadSigningKey } from './auth/tokens.js';
import { ensureFirstAdmin } from './bootstrap.js';
import { type BlindStage, createBlindStage, parseReadingScanId } from './collab/blind-stage.js';
import { type LockService, createLockService } from './collab/lock.js';
import type { DocChange } from './collab/room.js';
import { RoomRegistry } from './collab/room-registry.js';
import { type ScanDocPort, createScanDocPort } from './collab/scan-doc-port.js';
import type { RoomKey } from './db/doc-store.js';
import { UpdateWriter } from './collab/update-writer.js';
import { sqliteUpdateSink } from './db/sqlite-update-sink.js';
import { bySize, startSqliteWriter } from './db/sqlite-writer.js';
import { type Fanout, createRedisFanout } from './collab/fanout.js';
import { type YjsEndpoint, attachYjsEndpoint } from './collab/ws-endpoint.js';
import type { Config } from './config.js';
import { type Stores, openStores } from './db/stores.js';
import { type RegisteredRoute, createHttpApp } from './http/app.js';
import { type DicomServices, dicomServicesFor } from './dicom/services.js';
import { analyticsRoutes } from './analytics/analytics-routes.js';
import { exportRoutes } from './export/export-routes.js';
import { createExportService } from './export/export-service.js';
import { DicomWebClient } from './dicomweb/dicomweb-client.js';
import { type SrPush, pushingLocks, startSrPush } from './pacs/sr-push.js';
import { pacsPushRoutes } from './http/routes/pacs-push-routes.js';
import { createAuthGuard } from './http/auth-guard.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { dicomRoutes } from './http/routes/dicom-routes.js';
import { pacsRoutes } from './http/routes/pacs-routes.js';
import { healthRoutes } from './http/routes/health-routes.js';
import { blindRoutes } from './http/routes/blind-routes.js';
import { lockRoutes } from './http/routes/lock-routes.js';
import { scanRoutes } from './http/routes/scan-routes.js';
import { sessionRoutes } from './http/routes/session-routes.js';
import { userRoutes } from './http/routes/user-routes.js';
import { createLogger } from './logger.js';
import { auditRoutes } from './realtime/audit-routes.js';
import { type Realtime, attachRealtime } from './realtime/index.js';
import { sql } from 'kysely';
import { countedImporter, countedLocks, timedSink } from './ops/instrument.js';
import { ServerMetrics } from './ops/metrics.js';
import { opsRoutes } from './ops/ops-routes.js';
import { openApiRoutes } from './ops/openapi.js';
import { accessRoutes } from './ops/access-routes.js';
import { LoginThrottle } from './ops/login-throttle.js';
import { originPolicy } from './http/plugins/security.js';
import { startPacsImports } from './pacs/import-jobs.js';
import { shutdownSteps, stopAccepting } from './ops/shutdown.js';

/**
 * WebSocket upgrades for paths nobody serves are answered 404 and closed: left open, they hold
 * the browser's one "connecting" WebSocket slot per host and stall the real ones.
 */
function refuseUnknownUpgrades(server: import('node:http').Server): void {
  server.on('upgrade', (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex) => {
    const url = req.url ?? '';
    if (url.startsWith('/yjs/') || url.startsWith('/socket.io/')) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}

/** Runs tasks one after another. */
function serialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task, task);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

export interface RunningServer {
  readonly config: Config;
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly stores: Stores;
  readonly tokens: TokenService;
  readonly rooms: RoomRegistry;
  readonly locks: LockService;
  /** What the live panel may do with scan documents (decisions, lock, change events). */
  readonly scanDocs: ScanDocPort;
  readonly blind: BlindStage;
  /** DICOM import (shared with the demo seed), stored files and thumbnails. */
  readonly dicom: DicomServices;
  readonly yjs: YjsEndpoint;
  /** The live panel's socket.io channel (presence, votes, decisions, lock) and the audit log. */
  readonly realtime: Realtime;
  readonly log: Logger;
  /** This node's Prometheus metrics (also served at `/metrics`). */
  readonly metrics: ServerMetrics;
  /** Every HTTP route this server registered (the permission matrix and OpenAPI tests read it). */
  readonly routes: readonly RegisteredRoute[];
  /** Stops accepting, closes sockets as "restarting", stores what is pending, closes the database. */
  close(): Promise<void>;
  /** The shutdown steps not yet finished (logged when a stop takes too long). */
  shutdownPending(): string[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_DIST = path.resolve(HERE, '../../client/dist');
/** The server package's version, shown in the OpenAPI document. */
const SERVER_VERSION = String(
  (JSON.parse(fs.readFileSync(path.resolve(HERE, '../package.json'), 'utf8')) as { version?: unknown })
    .version,
);

/**
 * The one place that wires real implementations together. Everything it builds is local to
 * this call, so tests run several servers in one process.
 */
export async function startServer(config: Config, options: { log?: Logger } = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = new ServerMetrics();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const stores = await openStores({
    databaseUrl: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
    ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
  });
  await ensureFirstAdmin(
    stores,
    { username: config.adminUsername, password: config.adminPassword, quiet: config.demoData },
    log,
  );
  const tokens = new TokenService(loadSigningKey(config.dataDir, config.tokenSecret), config.tokenTtlSeconds);

  // SQLite: small batches on this thread, large ones (a busy server) on a writer thread of their
  // own; an in-memory database cannot be shared with a thread.
  const writerThread =
    stores.db.sqliteFile !== undefined
      ? startSqliteWriter(stores.db.sqliteFile, (err) => log.error({ err }, 'update writer thread failed'))
      : undefined;
  const sqliteSink = stores.db.sqlite ? sqliteUpdateSink(stores.db.sqlite) : undefined;
  const writer = new UpdateWriter(
    timedSink(
      sqliteSink
        ? writerThread
          ? bySize(sqliteSink, writerThread, config.sqliteThreadBatch)
          : sqliteSink
        : { append: (batch) => stores.docs.append(batch) },
      metrics,
    ),
    log,
  );
  const changeListeners: Array<(key: RoomKey, change: DocChange) => void> = [];
  const compactions = serialQueue();
  const compactFromLog = (key: RoomKey) => compactions.run(() => stores.docs.compact(key));
  // Several nodes share live document updates through Redis; one node needs none.
  const fanout: Fanout | undefined = config.redisUrl
    ? await createRedisFanout(
        config.redisUrl,
        log,
        (client) => metrics.redisError(client),
        config.redisKeyPrefix,
      )
    : undefined;
  const rooms = new RoomRegistry({
    lookupScan: async (key) => {
      // A blind reading is a private document of one reader over a scan of the session.
      const reading = parseReadingScanId(key.scanId);
      const state = await stores.sessions.scanState(key.sessionId, reading?.scanId ?? key.scanId);
      const session = state && (await stores.sessions.panel(key.sessionId));
      if (!state || !session) return undefined;
      if (reading) {
        if (!session.readerIds.includes(reading.readerId)) return undefined;
        return {
          image: { rows: state.rows, columns: state.columns },
          panel: [reading.readerId],
          locked: session.stage !== 'blind',
          lockVersion: 0,
        };
      }
      return {
        image: { rows: state.rows, columns: state.columns },
        panel: [session.moderatorId, ...session.readerIds],
        locked: state.locked,
        lockVersion: state.lockVersion,
      };
    },
    loadDoc: (key) => stores.docs.load(key),
    // One compaction at a time: each is a burst of deletes that would otherwise pile up.
    compact: compactFromLog,
    compactWith: (key, state, uptoSeq) => compactions.run(() => stores.docs.compactWith(key, state, uptoSeq)),
    writer,
    log,
    idleUnloadMs: config.roomIdleUnloadMs,
    compactAfterUpdates: config.compactAfterUpdates,
    dependencyWaitMs: config.wsDependencyWaitMs,
    keepaliveMs: config.wsKeepaliveMs,
    onChange: (key, change) => {
      for (const listener of changeListeners) listener(key, change);
    },
    fanout,
    metrics,
  });
  // With a PACS, every lock (HTTP or live panel) queues its SR once committed (R-PUSH-1).
  let srPush: SrPush | undefined;
  const locks = pushingLocks(
    countedLocks(createLockService(rooms, stores.consensus, compactFromLog), metrics),
    () => srPush,
  );
  const scanDocs = createScanDocPort(rooms, locks, changeListeners);
  const blind = createBlindStage(rooms, stores.sessions, (sessionId, scanId, at, proposalIds) =>
    stores.analytics.recordReveal(sessionId, scanId, at, proposalIds),
  );

  const routes: RegisteredRoute[] = [];
  const app = await createHttpApp({
    log,
    onRoute: (route) => routes.push(route),
    bodyLimitBytes: config.httpBodyLimitBytes,
    clientDir: CLIENT_DIST,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
  });
  const allowOrigin = originPolicy(config.corsOrigins);
  // The readiness checks read `realtime`, which exists by the time anyone can ask.
  let realtimeRef: Realtime | undefined;
  opsRoutes(app, {
    metrics,
    metricsToken: config.metricsToken,
    checks: {
      database: () => sql`select 1`.execute(stores.db.kysely),
      ...(config.redisUrl ? { redis: () => realtimeRef?.pingRedis() ?? Promise.resolve() } : {}),
    },
  });
  const requireUser = createAuthGuard(tokens, stores.users);
  const dicomServices = dicomServicesFor(config, stores, log);
  const dicom: DicomServices = {
    ...dicomServices,
    importer: countedImporter(dicomServices.importer, metrics),
  };
  const upload = await dicomRoutes(app, {
    dicom,
    files: stores.scanFiles,
    scans: stores.scans,
    sessions: stores.sessions,
    requireUser,
    maxUploadBytes: config.maxUploadBytes,
    maxUploadFiles: config.maxUploadFiles,
  });
  healthRoutes(app, { livePanel: () => realtimeRef !== undefined, pacs: config.pacs !== undefined });
  openApiRoutes(app, SERVER_VERSION);
  const throttle = new LoginThrottle(
    {
      windowMs: config.loginWindowMs,
      maxPerAccount: config.loginMaxFailuresPerAccount,
      maxPerAddress: config.loginMaxFailuresPerAddress,
    },
    (scope) => metrics.loginThrottled(scope),
  );
  authRoutes(app, { users: stores.users, tokens, requireUser, throttle });
  userRoutes(app, { users: stores.users, requireUser });
  sessionRoutes(app, { users: stores.users, scans: stores.scans, sessions: stores.sessions, requireUser });
  scanRoutes(app, { scans: stores.scans, sessions: stores.sessions, requireUser, upload });
  blindRoutes(app, { sessions: stores.sessions, users: stores.users, blind, requireUser });
  analyticsRoutes(app, {
    db: stores.db.kysely,
    analytics: stores.analytics,
    docs: stores.docs,
    users: stores.users,
    sessions: stores.sessions,
    requireUser,
  });
  srPush = config.pacs
    ? await startSrPush({
        outbox: stores.pacsOutbox,
        exports: createExportService({
          sessions: stores.sessions,
          consensus: stores.consensus,
          scanFiles: stores.scanFiles,
          blobs: dicom.images,
          users: stores.users,
        }),
        // Scans imported from the PACS are referenced by their original identity (R-PUSH-4).
        origins: stores.pacsOrigins,
        pacs: new DicomWebClient(config.pacs, { timeoutMs: config.dicomWebTimeoutMs }),
        log,
        retryMs: config.pacsPushRetryMs,
        // One attempt is one STOW-RS request, bounded by the timeout; then the lease grace.
        leaseMs: config.dicomWebTimeoutMs + config.pacsJobLeaseMs,
      })
    : undefined;
  lockRoutes(app, {
    sessions: stores.sessions,
    consensus: stores.consensus,
    locks,
    audit: stores.audit,
    requireUser,
    srPush,
  });
  pacsPushRoutes(app, { sessions: stores.sessions, audit: stores.audit, requireUser, srPush });
  // Import from the PACS (R-PACS-*): a worker per node; jobs are leased, so any node resumes them.
  const pacsClient = config.pacs
    ? new DicomWebClient(config.pacs, { timeoutMs: config.dicomWebTimeoutMs })
    : undefined;
  const pacsImports = pacsClient
    ? startPacsImports({
        store: stores.pacsImports,
        origins: stores.pacsOrigins,
        sessions: stores.sessions,
        importer: dicom.importer,
        pacs: pacsClient,
        log,
        // One instance is a WADO-RS retrieve and an import, each bounded by the timeout.
        leaseMs: 2 * config.dicomWebTimeoutMs + config.pacsJobLeaseMs,
        retryMs: config.pacsPushRetryMs,
      })
    : undefined;
  pacsRoutes(app, {
    sessions: stores.sessions,
    imports: stores.pacsImports,
    requireUser,
    pacs: pacsClient,
    runner: pacsImports,
  });
  exportRoutes(app, {
    sessions: stores.sessions,
    consensus: stores.consensus,
    scanFiles: stores.scanFiles,
    blobs: dicom.images,
    users: stores.users,
    requireUser,
  });

  const yjs = attachYjsEndpoint(app.server, {
    registry: rooms,
    authorize: createRoomAccess(tokens, stores.users, stores.sessions),
    maxFrameBytes: config.wsMaxFrameBytes,
    maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
    maxPendingMessages: config.wsMaxPendingMessages,
    pingIntervalMs: config.wsPingIntervalMs,
    log,
    metrics,
    allowOrigin,
  });

  // Live panel: socket.io on the same HTTP server (Redis-backed when REDIS_URL is set).
  const realtime = await attachRealtime(app.server, {
    stores,
    tokens,
    scanDocs,
    config,
    log,
    metrics,
    allowOrigin,
  });
  realtimeRef = realtime;
  refuseUnknownUpgrades(app.server);
  metrics.attach({
    yjsConnections: () => yjs.openConnections,
    socketConnections: () => realtime.localSockets,
    roomsLoaded: () => rooms.loadedCount,
  });
  auditRoutes(app, { audit: realtime.audit, docs: stores.docs, sessions: stores.sessions, requireUser });
  // Revoked access closes Yjs connections on every node (realtime relays it to the others).
  realtime.onRevoke((r) => {
    const key = r.code === 'unauthenticated' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
    metrics.revoked('yjs', yjs.closeUser(r.userId, key, r.message, r.sessionId));
  });
  accessRoutes(app, {
    users: stores.users,
    sessions: stores.sessions,
    audit: realtime.audit,
    requireUser,
    revoke: (r) => realtime.revoke(r),
  });

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;

  // R-OPS-4: the order matters. Stop listening first, so clients told to reconnect reach another
  // node behind the entry point, not this one; then close them (4503), then store what they sent.
  const shutdown = shutdownSteps([
    ['stop accepting connections', () => stopAccepting(app.server)],
    ['SR push', () => srPush?.close()],
    ['PACS imports', () => pacsImports?.stop()],
    ['live panel (socket.io)', () => realtime.close()],
    ['Yjs connections', () => yjs.close('RESTARTING', 'server restarting')],
    ['accepted updates', () => writer.drained()],
    ['writer thread', () => writerThread?.close()],
    ['rooms', () => rooms.destroy()],
    ['fan-out', () => fanout?.close()],
    ['HTTP server', () => app.close()],
    ['database', () => stores.db.close()],
  ]);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= shutdown.run();
    return closing;
  };

  return {
    config,
    url,
    port,
    app,
    stores,
    tokens,
    rooms,
    locks,
    scanDocs,
    blind,
    dicom,
    yjs,
    realtime,
    log,
    metrics,
    routes,
    close,
    shutdownPending: () => shutdown.pending(),
  };
}
