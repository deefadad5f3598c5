import fs from 'node:fs';
import { ImageStoreError } from '../dicom/image-store.js';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import { registerSecurity } from './plugins/security.js';

export interface AppOptions {
  readonly log: Logger;
  readonly bodyLimitBytes: number;
  /** Built client to serve at `/`, when present. */
  readonly clientDir?: string | undefined;
  /** Browser origins besides the server's own that may call the API (CORS). */
  readonly corsOrigins?: readonly string[];
  /** Behind the entry point: take the client address from `X-Forwarded-For` (login throttling). */
  readonly trustProxy?: boolean;
  /**
   * Told of every route registered after the app is built (not the built client's static files),
   * so tests and the OpenAPI document can check that no route escapes them.
   */
  readonly onRoute?: (route: RegisteredRoute) => void;
}

/** A route as registered: one method (HEAD twins of GET are left out) and its URL pattern. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

/**
 * The HTTP server with its error mapping: every failure leaves as `{error:{code,message}}`
 * with a fitting status, never a stack trace.
 */
export async function createHttpApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyServerOptions['loggerInstance'],
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => `r${Math.random().toString(36).slice(2, 10)}`,
    // Shutdown must not wait out keep-alive timeouts; sockets were told to go by then.
    forceCloseConnections: true,
    trustProxy: options.trustProxy ?? false,
  });
  await registerSecurity(app, { corsOrigins: options.corsOrigins ?? [] });

  app.setErrorHandler((error, req, reply) => {
    if (error instanceof ImageStoreError) {
      if (error.status === 503) void reply.header('retry-after', '5');
      void reply.status(error.status).send({ error: { code: error.code, message: error.message } });
      return;
    }
    if (error instanceof ApiError) {
      void reply.status(error.status).send({
        error: {
          code: error.code,
          message: error.message,
          ...(error.details ? { details: error.details } : {}),
        },
      });
      return;
    }
    const fastifyCode = errorField(error, 'code');
    const statusField = errorField(error, 'statusCode');
    const status = typeof statusField === 'number' ? statusField : 500;
    const message = error instanceof Error ? error.message : 'request failed';
    if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      void reply
        .status(413)
        .send({ error: { code: 'payload_too_large', message: 'request body too large' } });
      return;
    }
    if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
      void reply.status(415).send({ error: { code: 'unsupported_media_type', message } });
      return;
    }
    if (status >= 400 && status < 500) {
      void reply.status(status).send({ error: { code: 'bad_request', message } });
      return;
    }
    req.log.error({ err: error }, 'request failed');
    void reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });

  const clientDir = options.clientDir;
  const hasClient = clientDir !== undefined && fs.existsSync(path.join(clientDir, 'index.html'));
  if (hasClient) {
    await app.register(fastifyStatic, { root: clientDir, prefix: '/', wildcard: false, index: 'index.html' });
  }
  // Added after the static files are registered: the client's assets are not API routes.
  const onRoute = options.onRoute;
  if (onRoute) {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) if (method !== 'HEAD') onRoute({ method, url: route.url });
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const url = req.url;
    if (hasClient && req.method === 'GET' && !url.startsWith('/api/') && !url.startsWith('/yjs/')) {
      void reply.sendFile('index.html');
      return;
    }
    void reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${req.method} ${url.split('?')[0]}` } });
  });
  return app;
}

function errorField(error: unknown, field: string): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, field) : undefined;
}
