import type { CloseKey } from '@cxr/shared';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollabMetrics } from '../collab/collab-metrics.js';

/** Live values read at scrape time (no bookkeeping that could drift). */
export interface MetricSources {
  readonly yjsConnections: () => number;
  readonly socketConnections: () => number;
  readonly roomsLoaded: () => number;
}

/**
 * Seconds; spans an in-memory SQLite commit up to a slow PostgreSQL on another host. The two
 * lowest tell apart the 50-100 us a quiet server takes per move (all fell in the first bucket).
 */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5,
];

/**
 * Every metric of one server instance, in its own registry: tests run several servers in one
 * process, and the global default registry would mix (or refuse) their metrics.
 */
export class ServerMetrics implements CollabMetrics {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;
  private readonly accepted: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly persist: Histogram;
  private readonly broadcast: Histogram;
  private readonly commands: Counter<'command' | 'outcome'>;
  private readonly votes: Counter<'action' | 'outcome'>;
  private readonly locks: Counter<'outcome'>;
  private readonly imports: Counter<'outcome'>;
  private readonly redisErrors: Counter<'client'>;
  private readonly dbErrors: Counter<'operation'>;
  private readonly http: Counter<'method' | 'route' | 'status'>;
  private readonly revocations: Counter<'kind'>;
  private readonly throttled: Counter<'scope'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'cxr_' });
    // prom-client calls `collect` with the gauge as `this`, so the sources are read per scrape.
    const self = this;
    new Gauge({
      name: 'cxr_open_connections',
      help: 'Open client connections on this node, by kind (yjs, socketio)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.set({ kind: 'yjs' }, self.sources?.yjsConnections() ?? 0);
        this.set({ kind: 'socketio' }, self.sources?.socketConnections() ?? 0);
      },
    });
    new Gauge({
      name: 'cxr_rooms_loaded',
      help: 'Scan documents held in memory on this node',
      registers,
      collect() {
        this.set(self.sources?.roomsLoaded() ?? 0);
      },
    });
    this.accepted = new Counter({
      name: 'cxr_updates_accepted_total',
      help: 'Yjs updates accepted, stored and broadcast',
      registers,
    });
    this.refused = new Counter({
      name: 'cxr_updates_refused_total',
      help: 'Yjs connections closed for what they sent, by close reason',
      labelNames: ['reason'],
      registers,
    });
    this.persist = new Histogram({
      name: 'cxr_persist_duration_seconds',
      help: 'Time to store one batch of accepted updates (one transaction)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.broadcast = new Histogram({
      name: 'cxr_broadcast_latency_seconds',
      help: 'From an update arriving to its broadcast (guard, storage, ordering)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commands = new Counter({
      name: 'cxr_socket_commands_total',
      help: 'Live-panel commands answered, by command and outcome (ok or the error code)',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.votes = new Counter({
      name: 'cxr_votes_total',
      help: 'Vote commands (open, cast, close) by outcome',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.locks = new Counter({
      name: 'cxr_locks_total',
      help: 'Consensus locks attempted (HTTP and live panel), by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.imports = new Counter({
      name: 'cxr_dicom_imports_total',
      help: 'DICOM imports, by outcome (imported, duplicate or the rejection code)',
      labelNames: ['outcome'],
      registers,
    });
    this.redisErrors = new Counter({
      name: 'cxr_redis_errors_total',
      help: 'Redis connection errors, by client',
      labelNames: ['client'],
      registers,
    });
    this.dbErrors = new Counter({
      name: 'cxr_database_errors_total',
      help: 'Database operations that failed, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.http = new Counter({
      name: 'cxr_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.revocations = new Counter({
      name: 'cxr_access_revocations_total',
      help: 'Connections closed because access was revoked, by kind (yjs, socketio)',
      labelNames: ['kind'],
      registers,
    });
    this.throttled = new Counter({
      name: 'cxr_login_throttled_total',
      help: 'Login attempts refused with 429, by what was over its limit (account, address)',
      labelNames: ['scope'],
      registers,
    });
  }

  /** Wired once the things the gauges read exist (they are built after the metrics). */
  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  updateAccepted(): void {
    this.accepted.inc();
  }

  updateRefused(reason: CloseKey): void {
    this.refused.inc({ reason });
  }

  broadcastLatency(seconds: number): void {
    this.broadcast.observe(seconds);
  }

  persisted(seconds: number): void {
    this.persist.observe(seconds);
  }

  command(command: string, outcome: string): void {
    this.commands.inc({ command, outcome });
    if (command.startsWith('vote:') && command !== 'vote:list') {
      this.votes.inc({ action: command.slice(5), outcome });
    }
  }

  lock(outcome: string): void {
    this.locks.inc({ outcome });
  }

  dicomImport(outcome: string): void {
    this.imports.inc({ outcome });
  }

  redisError(client: string): void {
    this.redisErrors.inc({ client });
  }

  databaseError(operation: string): void {
    this.dbErrors.inc({ operation });
  }

  httpRequest(method: string, route: string, status: number): void {
    this.http.inc({ method, route, status: String(status) });
  }

  revoked(kind: 'yjs' | 'socketio', count: number): void {
    if (count > 0) this.revocations.inc({ kind }, count);
  }

  loginThrottled(scope: 'account' | 'address'): void {
    this.throttled.inc({ scope });
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
