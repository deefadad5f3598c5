import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../http/errors.js';
import type { ServerMetrics } from './metrics.js';

/** A dependency the node needs to serve; rejects when it is unreachable. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsRouteDeps {
  readonly metrics: ServerMetrics;
  /** When set, scrapes must send it as a bearer token. */
  readonly metricsToken: string | undefined;
  /** By name (`database`, `redis`); Redis only when configured. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** How long one check may take before it counts as failed. */
  readonly checkTimeoutMs?: number;
}

/**
 * `GET /metrics` (Prometheus text) and `GET /api/ready`, plus the request counter. Registered
 * before the other routes so the `onResponse` hook sees every one of them.
 */
export function opsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, not the URL: ids in paths would make the label set unbounded.
    deps.metrics.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.get('/metrics', async (req, reply) => {
    if (deps.metricsToken !== undefined && !bearerMatches(req.headers.authorization, deps.metricsToken)) {
      throw new ApiError(401, 'unauthenticated', 'metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    const { contentType, body } = await deps.metrics.render();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });

  app.get('/api/ready', async (request, reply) => {
    const timeoutMs = deps.checkTimeoutMs ?? 2_000;
    const entries = Object.entries(deps.checks);
    const results = await Promise.all(
      entries.map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          return [name, 'ok'] as const;
        } catch (error) {
          if (name === 'database') deps.metrics.databaseError('readiness');
          request.log.warn({ err: error, dependency: name }, 'readiness check failed');
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const failed = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
    if (failed.length === 0) return { status: 'ready', checks };
    return reply.status(503).send({
      error: {
        code: 'unavailable',
        message: `not ready: ${failed.join(', ')} unreachable`,
        details: { checks },
      },
    });
  });
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);
}
