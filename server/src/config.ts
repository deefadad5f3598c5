import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1');

/** An optional setting that compose files pass as `${VAR:-}`: empty means unset. */
function unsetWhenEmpty<S extends z.ZodTypeAny>(schema: S) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
}

/** A DICOMweb service root (`http(s)://host[:port]/path`), kept without its trailing slash. */
const dicomWebRoot = z
  .string()
  .url()
  .regex(/^https?:\/\//, 'a DICOMweb root is an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

/** `basic:<user>:<password>` or `bearer:<token>`, parsed into a tagged value. */
const dicomWebAuth = z
  .string()
  .regex(/^(basic:[^:]+:.+|bearer:.+)$/, 'expected basic:<user>:<password> or bearer:<token>')
  .transform((v): DicomWebAuth => {
    if (v.startsWith('bearer:')) return { kind: 'bearer', token: v.slice('bearer:'.length) };
    const rest = v.slice('basic:'.length);
    const at = rest.indexOf(':');
    return { kind: 'basic', user: rest.slice(0, at), password: rest.slice(at + 1) };
  });

/** How to authenticate to a DICOMweb peer. */
export type DicomWebAuth =
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

/** A DICOMweb peer: its service root and how to authenticate to it. */
export interface DicomWebPeer {
  readonly url: string;
  readonly auth: DicomWebAuth | undefined;
}

/**
 * Every setting the server reads, parsed once from the environment. Nothing else in the
 * server reads `process.env`: tests build a Config directly and run several servers at once.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  REDIS_URL: z.string().url().optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/)
    .default('cxr:'),
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(50).default(5_000),
  PRESENCE_TTL_MS: z.coerce.number().int().min(100).default(15_000),
  ADMIN_USERNAME: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  TOKEN_SECRET: z.string().min(32).optional(),
  TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(12 * 3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WS_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024),
  WS_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().positive().default(300),
  WS_MAX_PENDING_MESSAGES: z.coerce.number().int().positive().default(256),
  WS_DEPENDENCY_WAIT_MS: z.coerce.number().int().positive().default(10_000),
  WS_KEEPALIVE_MS: z.coerce.number().int().positive().default(10_000),
  WS_PING_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  ROOM_IDLE_UNLOAD_MS: z.coerce.number().int().nonnegative().default(30_000),
  COMPACT_AFTER_UPDATES: z.coerce.number().int().positive().default(2000),
  SQLITE_THREAD_BATCH: z.coerce.number().int().positive().default(1000),
  GC_PARALLEL_SCAVENGE: bool.default(false),
  HTTP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  MAX_UPLOAD_FILES: z.coerce.number().int().positive().default(100),
  DEID_PROFILE: z.enum(['basic', 'vindr']).default('basic'),
  DEMO_DATA: bool.default(false),
  METRICS_TOKEN: z.string().min(16).optional(),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin is scheme://host[:port]'))),
  TRUST_PROXY: bool.default(false),
  LOGIN_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().default(30),
  PACS_URL: unsetWhenEmpty(dicomWebRoot),
  PACS_AUTH: unsetWhenEmpty(dicomWebAuth),
  IMAGE_STORE: z.enum(['local', 'dicomweb']).default('local'),
  IMAGE_STORE_URL: unsetWhenEmpty(dicomWebRoot),
  IMAGE_STORE_AUTH: unsetWhenEmpty(dicomWebAuth),
  IMAGE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024 * 1024)
    .default(4 * 1024 * 1024 * 1024),
  DICOMWEB_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  DICOM_UID_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'DICOM_UID_KEY is 64 lowercase hex digits (32 bytes)')
    .optional(),
  PACS_JOB_LEASE_MS: z.coerce.number().int().min(500).default(15_000),
  PACS_PUSH_RETRY_MS: z.coerce.number().int().min(50).default(5_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string | undefined;
  readonly dataDir: string;
  /** PostgreSQL when set; otherwise SQLite at `<dataDir>/cxr.sqlite`. */
  readonly databaseUrl: string | undefined;
  /** PostgreSQL schema to keep the tables in (created if missing); default: the search path. */
  readonly databaseSchema: string | undefined;
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel we use, so deployments (and tests) can share a Redis. */
  readonly redisKeyPrefix: string;
  /** How often each node refreshes the presence of its sockets in the shared store. */
  readonly presenceHeartbeatMs: number;
  /** A connection not refreshed for this long is offline (a crashed node's sockets expire). */
  readonly presenceTtlMs: number;
  readonly adminUsername: string | undefined;
  readonly adminPassword: string | undefined;
  readonly tokenSecret: string | undefined;
  readonly tokenTtlSeconds: number;
  readonly logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  readonly wsMaxFrameBytes: number;
  readonly wsMaxMessagesPerSecond: number;
  readonly wsMaxPendingMessages: number;
  readonly wsDependencyWaitMs: number;
  readonly wsKeepaliveMs: number;
  readonly wsPingIntervalMs: number;
  readonly roomIdleUnloadMs: number;
  readonly compactAfterUpdates: number;
  /** SQLite: batches of at least this many updates are stored by the writer thread. */
  readonly sqliteThreadBatch: number;
  /** `cxr serve`: keep V8's parallel young-generation collection (off by default; gc-tuning.ts). */
  readonly gcParallelScavenge: boolean;
  readonly httpBodyLimitBytes: number;
  /** Largest DICOM file accepted by upload (each part of a multipart upload); larger is 413. */
  readonly maxUploadBytes: number;
  /** Most files in one multipart upload. */
  readonly maxUploadFiles: number;
  /** De-identification profile applied on import: PS3.15 basic, or the VinDr-CXR keep-list. */
  readonly deidProfile: z.infer<typeof EnvSchema>['DEID_PROFILE'];
  readonly demoData: boolean;
  /** When set, `GET /metrics` needs `Authorization: Bearer <metricsToken>`. */
  readonly metricsToken: string | undefined;
  /** Browser origins besides the server's own allowed by CORS and the WebSocket Origin check. */
  readonly corsOrigins: readonly string[];
  /** Behind a reverse proxy: client addresses come from `X-Forwarded-For`. */
  readonly trustProxy: boolean;
  /** Failed logins are counted over this sliding window. */
  readonly loginWindowMs: number;
  /** Failed logins per username within the window before further attempts get 429. */
  readonly loginMaxFailuresPerAccount: number;
  /** Failed logins per client address within the window before further attempts get 429. */
  readonly loginMaxFailuresPerAddress: number;
  /** The hospital's PACS (import source, consensus SR destination); unset: no PACS. */
  readonly pacs: DicomWebPeer | undefined;
  /** Where de-identified images live: this node's `DATA_DIR/dicom`, or a DICOMweb archive all nodes share. */
  readonly imageStore:
    | { readonly kind: 'local' }
    | { readonly kind: 'dicomweb'; readonly peer: DicomWebPeer };
  /** Bound of the per-node disk cache of images read from a DICOMweb archive. */
  readonly imageCacheBytes: number;
  /** Longest wait for one DICOMweb request before the peer counts as unavailable. */
  readonly dicomWebTimeoutMs: number;
  /** The key that maps original UIDs to de-identified ones; every node of a cluster shares it. */
  readonly dicomUidKey: Uint8Array | undefined;
  /** A node that stops renewing a PACS import job's lease for this long loses it to another node. */
  readonly pacsJobLeaseMs: number;
  /** First delay before a failed SR push is tried again (doubled each time, at most an hour). */
  readonly pacsPushRetryMs: number;
  /** How long a SIGTERM/SIGINT shutdown may take before the process exits non-zero anyway. */
  readonly shutdownTimeoutMs: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  }
  const e = parsed.data;
  if (e.IMAGE_STORE === 'dicomweb' && !e.IMAGE_STORE_URL) {
    return { ok: false, problems: ['IMAGE_STORE_URL: required when IMAGE_STORE=dicomweb'] };
  }
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      publicUrl: e.PUBLIC_URL,
      dataDir: path.resolve(e.DATA_DIR),
      databaseUrl: e.DATABASE_URL,
      databaseSchema: e.DATABASE_SCHEMA,
      redisUrl: e.REDIS_URL,
      redisKeyPrefix: e.REDIS_KEY_PREFIX,
      presenceHeartbeatMs: e.PRESENCE_HEARTBEAT_MS,
      presenceTtlMs: e.PRESENCE_TTL_MS,
      adminUsername: e.ADMIN_USERNAME,
      adminPassword: e.ADMIN_PASSWORD,
      tokenSecret: e.TOKEN_SECRET,
      tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
      logLevel: e.LOG_LEVEL,
      wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES,
      wsMaxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
      wsMaxPendingMessages: e.WS_MAX_PENDING_MESSAGES,
      wsDependencyWaitMs: e.WS_DEPENDENCY_WAIT_MS,
      wsKeepaliveMs: e.WS_KEEPALIVE_MS,
      wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
      roomIdleUnloadMs: e.ROOM_IDLE_UNLOAD_MS,
      compactAfterUpdates: e.COMPACT_AFTER_UPDATES,
      sqliteThreadBatch: e.SQLITE_THREAD_BATCH,
      gcParallelScavenge: e.GC_PARALLEL_SCAVENGE,
      httpBodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxUploadFiles: e.MAX_UPLOAD_FILES,
      deidProfile: e.DEID_PROFILE,
      demoData: e.DEMO_DATA,
      metricsToken: e.METRICS_TOKEN,
      corsOrigins: e.CORS_ORIGINS,
      trustProxy: e.TRUST_PROXY,
      loginWindowMs: e.LOGIN_WINDOW_MS,
      loginMaxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      loginMaxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
      pacs: e.PACS_URL ? { url: e.PACS_URL, auth: e.PACS_AUTH } : undefined,
      imageStore:
        e.IMAGE_STORE === 'dicomweb' && e.IMAGE_STORE_URL
          ? { kind: 'dicomweb', peer: { url: e.IMAGE_STORE_URL, auth: e.IMAGE_STORE_AUTH } }
          : { kind: 'local' },
      imageCacheBytes: e.IMAGE_CACHE_BYTES,
      dicomWebTimeoutMs: e.DICOMWEB_TIMEOUT_MS,
      dicomUidKey: e.DICOM_UID_KEY ? Uint8Array.from(Buffer.from(e.DICOM_UID_KEY, 'hex')) : undefined,
      pacsJobLeaseMs: e.PACS_JOB_LEASE_MS,
      pacsPushRetryMs: e.PACS_PUSH_RETRY_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
  };
}

/** Reads the process environment; the only place that does. */
export function configFromProcess(overrides: Record<string, string | undefined> = {}): ConfigResult {
  return parseConfig({ ...process.env, ...overrides });
}
