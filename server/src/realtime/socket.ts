import { randomUUID } from 'node:crypto';
import type { Ack } from '@cxr/shared';
import type { Logger } from 'pino';
import { ClientClosedError, ClientOfflineError, SocketClosedUnexpectedlyError } from 'redis';
import type { ExtendedError, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { SessionsStore } from '../db/sessions-store.js';
import { type SocketSide, commandIdOf, parseCachedAck, toAck } from './commands.js';
import type { Actor } from './context.js';
import type { LiveResult } from './errors.js';
import { EventBucket, type EventLimits, overLimits } from './event-limits.js';
import type { HandshakeResult } from './handshake.js';
import type { CommandCache } from './live-store.js';
import type { PresenceTracker } from './presence.js';

export const sessionRoom = (sessionId: string) => `s:${sessionId}`;
/** Every socket of a user, and of a user in one session: targets for revoking access. */
export const userRoom = (userId: string) => `u:${userId}`;
export const userSessionRoom = (userId: string, sessionId: string) => `u:${userId}:${sessionId}`;
const followersRoom = (sessionId: string) => `f:${sessionId}`;

/** Unknown events a socket may send before it is disconnected (a client from another build). */
const MAX_UNKNOWN_EVENTS = 20;

interface Deps {
  readonly handshake: (auth: unknown) => Promise<HandshakeResult>;
  readonly commands: ReadonlyMap<
    string,
    {
      schema: z.ZodType;
      run: (actor: Actor, input: unknown, side: SocketSide) => Promise<LiveResult<object>>;
      limits?: EventLimits;
    }
  >;
  readonly presence: PresenceTracker;
  readonly cache: CommandCache;
  readonly sessions: SessionsStore;
  readonly log: Logger;
  /** Sees every acknowledgement (metrics). */
  readonly onAnswer?: ((event: string, answer: Ack<object>) => void) | undefined;
}

/** A refused handshake reaches the client as `connect_error` with `err.data = {code, message}`. */
class HandshakeError extends Error implements ExtendedError {
  constructor(readonly data: { code: string; message: string }) {
    super(data.message);
  }
}

const actors = new WeakMap<Socket, Actor>();

export function attachSocketHandlers(io: Server, deps: Deps): void {
  io.use((socket, next) => {
    deps.handshake(socket.handshake.auth).then(
      (result) => {
        if (!result.ok) return next(new HandshakeError({ code: result.code, message: result.message }));
        actors.set(socket, result.actor);
        next();
      },
      (error: unknown) => {
        deps.log.error({ err: error }, 'socket handshake failed');
        next(
          new HandshakeError({ code: unavailable(error) ? 'unavailable' : 'internal', message: 'try again' }),
        );
      },
    );
  });

  io.on('connection', (socket) => {
    const actor = actors.get(socket);
    if (!actor) {
      socket.disconnect(true);
      return;
    }
    onConnection(socket, actor, deps).catch((error: unknown) => {
      deps.log.error({ err: error, sessionId: actor.sessionId }, 'socket setup failed');
      socket.disconnect(true);
    });
  });
}

async function onConnection(socket: Socket, actor: Actor, deps: Deps): Promise<void> {
  const log = deps.log.child({ sessionId: actor.sessionId, userId: actor.userId, socket: socket.id });
  const connId = randomUUID();
  const inflight = new Map<string, Promise<Ack<object>>>();
  let unknownEvents = 0;

  const side: SocketSide = {
    async setFollowing(following) {
      if (following) socket.join(followersRoom(actor.sessionId));
      else socket.leave(followersRoom(actor.sessionId));
      const entry = deps.presence.get(connId);
      if (entry) await deps.presence.set(actor.sessionId, { ...entry, following });
    },
    async setScan(scanId) {
      const entry = deps.presence.get(connId);
      if (entry) await deps.presence.set(actor.sessionId, { ...entry, scanId });
    },
    gotoFollowers(scanId) {
      socket.to(followersRoom(actor.sessionId)).emit('session:goto', { scanId, by: actor.userId });
    },
    async scanInSession(scanId) {
      return (await deps.sessions.scanState(actor.sessionId, scanId)) !== undefined;
    },
  };

  // Rate buckets live with the socket: a reconnect starts a new one, which is fine (the bound
  // protects the server from a flood, not the figures from a reconnecting client).
  const buckets = new Map<string, EventBucket>();
  for (const [event, command] of deps.commands) {
    if (command.limits?.rate) buckets.set(event, new EventBucket(command.limits.rate));
  }

  // Commands are registered before the first await so nothing a fast client sends is missed.
  for (const [event, command] of deps.commands) {
    socket.on(event, (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') {
        log.warn({ event }, 'command without an acknowledgement callback ignored');
        return;
      }
      const reply = (answer: Ack<object>) => {
        deps.onAnswer?.(event, answer);
        ack(answer);
      };
      handleCommand(event, command, payload).then(reply, (error: unknown) => {
        log.error({ err: error, event }, 'command failed');
        reply({
          ok: false,
          error: unavailable(error)
            ? { code: 'unavailable', message: 'the live store is unreachable; try again' }
            : { code: 'internal', message: 'internal error' },
        });
      });
    });
  }

  async function handleCommand(
    event: string,
    command: NonNullable<ReturnType<Deps['commands']['get']>>,
    payload: unknown,
  ): Promise<Ack<object>> {
    if (command.limits) {
      const refused = overLimits(command.limits, payload, buckets.get(event));
      if (refused) return { ok: false, error: refused };
    }
    const parsed = command.schema.safeParse(payload);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
        .join('; ');
      return { ok: false, error: { code: 'validation_failed', message } };
    }
    const commandId = commandIdOf(parsed.data);
    if (!commandId) return toAck(await command.run(actor, parsed.data, side));
    // A retry (at-least-once delivery) gets the first answer instead of a second execution.
    const key = `${actor.userId}:${event}:${commandId}`;
    const running = inflight.get(key);
    if (running) return running;
    const execution = (async () => {
      const cached = await deps.cache.recall(key);
      const hit = cached && parseCachedAck(cached);
      if (hit) return hit;
      const answer = toAck(await command.run(actor, parsed.data, side));
      if (answer.ok) await deps.cache.remember(key, JSON.stringify(answer));
      return answer;
    })();
    inflight.set(key, execution);
    try {
      return await execution;
    } finally {
      inflight.delete(key);
    }
  }

  // socket.io has no catch-all ack: answer unknown events that carry one, log them, and drop a
  // client that keeps sending them rather than ignore it silently.
  socket.onAny((event: unknown, ...args: unknown[]) => {
    if (typeof event === 'string' && deps.commands.has(event)) return;
    unknownEvents++;
    log.warn({ event: String(event).slice(0, 64), count: unknownEvents }, 'unknown socket event');
    const ack = args.at(-1);
    if (typeof ack === 'function') {
      ack({
        ok: false,
        error: { code: 'unknown_event', message: `unknown event ${String(event).slice(0, 64)}` },
      });
    }
    if (unknownEvents >= MAX_UNKNOWN_EVENTS) socket.disconnect(true);
  });

  socket.on('disconnect', () => {
    deps.presence.leave(connId).catch((error: unknown) => log.warn({ err: error }, 'presence leave failed'));
  });

  socket.join([
    sessionRoom(actor.sessionId),
    userRoom(actor.userId),
    userSessionRoom(actor.userId, actor.sessionId),
  ]);
  const following = actor.role === 'reader';
  if (following) socket.join(followersRoom(actor.sessionId));
  await deps.presence.set(actor.sessionId, {
    connId,
    userId: actor.userId,
    username: actor.username,
    role: actor.role,
    globalRole: actor.globalRole,
    scanId: null,
    following,
    lastSeen: Date.now(),
  });
  // The socket may have closed while presence was written.
  if (socket.disconnected) await deps.presence.leave(connId);
}

/** Redis is away (restart, network): a retryable condition, not a bug. */
function unavailable(error: unknown): boolean {
  return (
    error instanceof ClientOfflineError ||
    error instanceof ClientClosedError ||
    error instanceof SocketClosedUnexpectedlyError ||
    (error instanceof Error && /ECONNREFUSED|ECONNRESET|offline/i.test(error.message))
  );
}
