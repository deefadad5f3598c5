import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Whether a browser origin may talk to this server: its own origin (the `Host` it was reached
 * at, as the entry point forwards it) or one listed in `CORS_ORIGINS`.
 */
export function originPolicy(allowed: readonly string[]) {
  const listed = new Set(allowed.map((o) => o.toLowerCase()));
  return (origin: string, host: string | undefined): boolean => {
    if (listed.has(origin.toLowerCase())) return true;
    try {
      return host !== undefined && new URL(origin).host.toLowerCase() === host.toLowerCase();
    } catch {
      return false;
    }
  };
}

/**
 * Security headers with a content security policy fitted to the client (DICOM decoding runs
 * in Web Workers with WASM codecs), and CORS for the listed origins only: same-origin needs
 * none, and every API call carries a bearer token, never a cookie.
 */
export async function registerSecurity(app: FastifyInstance, options: { corsOrigins: readonly string[] }) {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // WASM codecs compile at runtime; nothing else is evaluated.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        // Workers come from the bundle, or from blob: URLs some codec loaders create.
        workerSrc: ["'self'", 'blob:'],
        // Style attributes set by React and Konva's containers.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        // Same-origin WebSockets (/yjs, /socket.io) match 'self' in current browsers.
        connectSrc: ["'self'", ...options.corsOrigins],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Deployments on a plain-HTTP hospital network must keep working; TLS is the proxy's job.
    strictTransportSecurity: false,
  });
  await app.register(cors, {
    origin: options.corsOrigins.length > 0 ? [...options.corsOrigins] : false,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'x-consensus-sha256', 'x-consensus-version', 'x-consensus-unlocked'],
    maxAge: 600,
  });
}
