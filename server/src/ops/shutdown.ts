import type { Server } from 'node:http';
import { constants } from 'node:os';
import type { Logger } from 'pino';

/**
 * Signals closer together than this are one stop request, not two: a terminal's Ctrl-C reaches
 * the whole process group, and npm then passes the same SIGINT on to its child a few ms later.
 */
export const REPEAT_WINDOW_MS = 500;

export interface ShutdownDeps {
  /** The orderly stop (R-OPS-4); resolves once everything is stored and closed. */
  close(): Promise<void>;
  /** The steps not yet finished, logged when the stop takes too long or is cut short. */
  pending(): readonly string[];
  timeoutMs: number;
  log: Logger;
  exit(code: number): void;
  now?: () => number;
}

/**
 * What a process does on SIGTERM/SIGINT: the first starts the orderly stop, bounded by
 * `timeoutMs` (past it: log what is pending, exit 1); a later one exits at once with 128+signal,
 * as a shell reports a process a signal ended.
 */
export function shutdownOnSignal(deps: ShutdownDeps): (signal: NodeJS.Signals) => void {
  const now = deps.now ?? Date.now;
  let firstAt: number | undefined;
  return (signal) => {
    const at = now();
    if (firstAt === undefined) {
      firstAt = at;
      deps.log.info({ signal, timeoutMs: deps.timeoutMs }, 'shutting down');
      const timer = setTimeout(() => {
        deps.log.error({ pending: deps.pending(), timeoutMs: deps.timeoutMs }, 'shutdown timed out; exiting');
        deps.exit(1);
      }, deps.timeoutMs);
      deps.close().then(
        () => {
          clearTimeout(timer);
          deps.log.info({ ms: now() - at }, 'stopped');
          deps.exit(0);
        },
        (error: unknown) => {
          clearTimeout(timer);
          deps.log.error({ err: error, pending: deps.pending() }, 'shutdown failed');
          deps.exit(1);
        },
      );
      return;
    }
    if (at - firstAt < REPEAT_WINDOW_MS) return;
    deps.log.warn({ signal, pending: deps.pending() }, 'second signal; exiting without finishing');
    deps.exit(128 + (constants.signals[signal] ?? 0));
  };
}

/** Named steps run in order; `pending()` names the one running and those after it. */
export function shutdownSteps(steps: ReadonlyArray<readonly [name: string, run: () => unknown]>): {
  run(): Promise<void>;
  pending(): string[];
} {
  let next = 0;
  return {
    async run() {
      for (; next < steps.length; next++) await steps[next]![1]();
    },
    pending: () => steps.slice(next).map(([name]) => name),
  };
}

/** No new connections; idle keep-alive ones close, open requests and WebSockets go on. */
export function stopAccepting(server: Server): void {
  if (server.listening) server.close();
  server.closeIdleConnections();
}
