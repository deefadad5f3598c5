import {
  ANALYTICS_CAPTURE_EVENT,
  type Ack,
  AnalyticsCaptureSchema,
  DecideSchema,
  FollowSchema,
  GotoSchema,
  LockSchema,
  PresenceScanSchema,
  QuorumSetSchema,
  UnlockSchema,
  VoteCastSchema,
  VoteCloseSchema,
  VoteListSchema,
  VoteOpenSchema,
  ok,
} from '@cxr/shared';
import { z } from 'zod';
import { type AnalyticsCaptureService, CAPTURE_LIMITS } from './analytics-capture.js';
import type { Actor } from './context.js';
import { type LiveResult, refuse } from './errors.js';
import type { EventLimits } from './event-limits.js';
import type { ModeratorService } from './moderator.js';
import type { VoteService } from './votes.js';

/** What a command may do to the socket that sent it (follow rooms, presence). */
export interface SocketSide {
  setFollowing(following: boolean): Promise<void>;
  setScan(scanId: string | null): Promise<void>;
  gotoFollowers(scanId: string): void;
  scanInSession(scanId: string): Promise<boolean>;
}

interface Command<S extends z.ZodType> {
  readonly schema: S;
  readonly run: (actor: Actor, input: z.infer<S>, side: SocketSide) => Promise<LiveResult<object>>;
  /** Size and rate bounds checked before the schema (the analytics capture has them). */
  readonly limits?: EventLimits;
}

const command = <S extends z.ZodType>(
  schema: S,
  run: (actor: Actor, input: z.infer<S>, side: SocketSide) => Promise<LiveResult<object>>,
  limits?: EventLimits,
): Command<z.ZodType> => ({
  schema,
  ...(limits ? { limits } : {}),
  // The payload was parsed by `schema` before `run` is called (see handleCommand).
  run: (actor, input, side) => run(actor, schema.parse(input), side),
});

/**
 * Every client-to-server event, its schema and its handler (ClientToServerEvents in shared).
 * Commands with a `commandId` are answered from the command cache when retried.
 */
export function commandTable(
  votes: VoteService,
  moderator: ModeratorService,
  analytics: AnalyticsCaptureService,
): ReadonlyMap<string, Command<z.ZodType>> {
  return new Map<string, Command<z.ZodType>>([
    [
      'presence:scan',
      command(PresenceScanSchema, async (_actor, input, side) => {
        if (input.scanId !== null && !(await side.scanInSession(input.scanId))) {
          return refuse('not_found', 'no such scan in this session');
        }
        await side.setScan(input.scanId);
        return ok({});
      }),
    ],
    [
      'follow:set',
      command(FollowSchema, async (_actor, input, side) => {
        await side.setFollowing(input.following);
        return ok({});
      }),
    ],
    [
      'moderator:goto',
      command(GotoSchema, async (actor, input, side) => {
        if (actor.role !== 'moderator')
          return refuse('forbidden', 'only the session’s moderator may do this');
        if (!(await side.scanInSession(input.scanId)))
          return refuse('not_found', 'no such scan in this session');
        await side.setScan(input.scanId);
        side.gotoFollowers(input.scanId);
        return ok({});
      }),
    ],
    ['vote:open', command(VoteOpenSchema, (actor, input) => votes.open(actor, input))],
    ['vote:cast', command(VoteCastSchema, (actor, input) => votes.cast(actor, input))],
    ['vote:close', command(VoteCloseSchema, (actor, input) => votes.close(actor, input))],
    ['vote:list', command(VoteListSchema, (actor, input) => votes.list(actor, input.scanId))],
    ['scan:decide', command(DecideSchema, (actor, input) => moderator.decide(actor, input))],
    ['scan:lock', command(LockSchema, (actor, input) => moderator.lock(actor, input))],
    ['scan:unlock', command(UnlockSchema, (actor, input) => moderator.unlock(actor, input))],
    ['session:quorum', command(QuorumSetSchema, (actor, input) => moderator.setQuorum(actor, input))],
    [
      ANALYTICS_CAPTURE_EVENT,
      command(AnalyticsCaptureSchema, (actor, input) => analytics.capture(actor, input), CAPTURE_LIMITS),
    ],
  ]);
}

/** A remembered answer, read back from the cache: checked, never cast. */
const CachedAckSchema = z.object({ ok: z.literal(true) }).passthrough();

export function toAck(result: LiveResult<object>): Ack<object> {
  return result.ok ? { ok: true, ...result.value } : { ok: false, error: result.error };
}

export function parseCachedAck(text: string): Ack<object> | undefined {
  try {
    const parsed = CachedAckSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The command id of a payload, if it has one (after validation). */
export function commandIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const id = Reflect.get(input, 'commandId');
  return typeof id === 'string' ? id : undefined;
}
