import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Tokens and passwords are redacted wherever they appear in a logged
 * request; patient attributes are never passed to the logger in the first place.
 */
export function createLogger(level: pino.LevelWithSilent): Logger {
  return pino({
    level,
    base: { service: 'cxr-consensus' },
    redact: {
      paths: ['req.headers.authorization', 'password', '*.password', 'token', '*.token'],
      censor: '[redacted]',
    },
    serializers: {
      // Query strings carry the y-websocket token: log the path only.
      req: (req: { method?: string; url?: string; id?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split('?')[0],
      }),
    },
  });
}
