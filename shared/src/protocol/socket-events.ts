import { z } from 'zod';
import { GlobalLabelSchema, IdSchema, RoleSchema } from '../model/schemas.js';
import type { AnalyticsCaptureAck, AnalyticsCaptureInput } from './analytics.js';

/**
 * The socket.io channel of a reading session (presence, follow, votes, decisions, lock).
 * Handshake `auth`: `{token, v: PROTOCOL_VERSION, sessionId}`. Every command is acknowledged with
 * `{ok: true, ...}` or `{ok: false, error: {code, message}}`; every payload is validated with the
 * schemas below. Commands carry a client-made `commandId` so retries are idempotent.
 */
export const SocketAuthSchema = z
  .object({ token: z.string().min(1).max(4096), v: z.number().int(), sessionId: IdSchema })
  .strict();
export type SocketAuth = z.infer<typeof SocketAuthSchema>;

/** What a vote or a decision is about. */
export const TargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('finding'), id: IdSchema }).strict(),
  z.object({ kind: z.literal('global'), label: GlobalLabelSchema }).strict(),
]);
export type Target = z.infer<typeof TargetSchema>;

export const VoteChoiceSchema = z.enum(['agree', 'disagree', 'abstain']);
export type VoteChoice = z.infer<typeof VoteChoiceSchema>;

export const CommandIdSchema = z.string().min(8).max(64);

// ---- client -> server commands ----

export const PresenceScanSchema = z.object({ scanId: IdSchema.nullable() }).strict();
export const FollowSchema = z.object({ following: z.boolean() }).strict();
export const GotoSchema = z.object({ scanId: IdSchema }).strict();
export const VoteOpenSchema = z
  .object({ commandId: CommandIdSchema, scanId: IdSchema, target: TargetSchema })
  .strict();
export const VoteCastSchema = z
  .object({ commandId: CommandIdSchema, voteId: IdSchema, choice: VoteChoiceSchema })
  .strict();
export const VoteCloseSchema = z
  .object({
    commandId: CommandIdSchema,
    voteId: IdSchema,
    /** The moderator may decide against the quorum, with a written reason. */
    override: z
      .object({ outcome: z.enum(['accepted', 'rejected']), reason: z.string().trim().min(3).max(2000) })
      .strict()
      .optional(),
  })
  .strict();
export const VoteListSchema = z.object({ scanId: IdSchema }).strict();
/** Sets (a number) or clears (null: strict majority of the readers) the session's quorum. */
export const QuorumSetSchema = z
  .object({ commandId: CommandIdSchema, quorum: z.number().int().min(1).max(5).nullable() })
  .strict();
export const DecideSchema = z
  .object({
    commandId: CommandIdSchema,
    scanId: IdSchema,
    target: TargetSchema,
    outcome: z.enum(['accepted', 'rejected']),
    reason: z.string().trim().max(2000).optional(),
  })
  .strict();
export const LockSchema = z
  .object({ commandId: CommandIdSchema, scanId: IdSchema, rejectUndecided: z.boolean().default(false) })
  .strict();
export const UnlockSchema = z
  .object({ commandId: CommandIdSchema, scanId: IdSchema, reason: z.string().trim().min(3).max(2000) })
  .strict();

// ---- server -> client events ----

export const PresenceMemberSchema = z.object({
  userId: IdSchema,
  username: z.string(),
  role: z.enum(['moderator', 'reader', 'observer']),
  globalRole: RoleSchema,
  online: z.boolean(),
  scanId: IdSchema.nullable(),
  following: z.boolean(),
  lastSeen: z.number(),
});
export type PresenceMember = z.infer<typeof PresenceMemberSchema>;

export const VoteSchema = z.object({
  id: IdSchema,
  sessionId: IdSchema,
  scanId: IdSchema,
  target: TargetSchema,
  /** The finding's box and labels the vote is about; a change voids the open vote. */
  targetVersion: z.string(),
  state: z.enum(['open', 'closed', 'void']),
  tally: z.object({ agree: z.number(), disagree: z.number(), abstain: z.number() }),
  /** Each reader's choice (open ballots: the panel votes in the open). */
  ballots: z.record(z.string(), VoteChoiceSchema),
  outcome: z.enum(['accepted', 'rejected']).nullable(),
  overridden: z.boolean(),
  reason: z.string().nullable(),
  openedAt: z.number(),
  closedAt: z.number().nullable(),
  /** Agree votes needed to accept, fixed when the vote opens. */
  quorum: z.number().int().optional(),
  /**
   * Grows with every change to this vote (cast, close, void). Updates can arrive out of order
   * (concurrent casts, two nodes): keep the one with the highest `seq`.
   */
  seq: z.number().int().optional(),
});
export type Vote = z.infer<typeof VoteSchema>;

export type AckError = { code: string; message: string };
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: AckError };

/** Events the server emits to clients. */
export interface ServerToClientEvents {
  'presence:update': (payload: { members: PresenceMember[] }) => void;
  'session:goto': (payload: { scanId: string; by: string }) => void;
  'vote:update': (payload: { vote: Vote }) => void;
  'scan:decided': (payload: { scanId: string; target: Target; outcome: 'accepted' | 'rejected' }) => void;
  'scan:locked': (payload: { scanId: string; version: number; sha256: string }) => void;
  'scan:unlocked': (payload: { scanId: string; version: number; reason: string }) => void;
  /** Sent just before the server disconnects a socket whose access was revoked; do not reconnect. */
  'access:revoked': (payload: { code: 'unauthenticated' | 'forbidden'; message: string }) => void;
  /**
   * Sent to every socket just before this node stops (R-OPS-4), with the close code Yjs
   * connections get (4503). The transport closes next and socket.io reconnects by itself, to
   * another node behind the entry point: nothing to do but say so.
   */
  'server:restarting': (payload: { code: number; reason: string }) => void;
}

/** Commands clients send; each takes its payload and an acknowledgement callback. */
export interface ClientToServerEvents {
  'presence:scan': (payload: z.input<typeof PresenceScanSchema>, ack: (a: Ack) => void) => void;
  'follow:set': (payload: z.input<typeof FollowSchema>, ack: (a: Ack) => void) => void;
  'moderator:goto': (payload: z.input<typeof GotoSchema>, ack: (a: Ack) => void) => void;
  'vote:open': (payload: z.input<typeof VoteOpenSchema>, ack: (a: Ack<{ vote: Vote }>) => void) => void;
  'vote:cast': (payload: z.input<typeof VoteCastSchema>, ack: (a: Ack<{ vote: Vote }>) => void) => void;
  'vote:close': (payload: z.input<typeof VoteCloseSchema>, ack: (a: Ack<{ vote: Vote }>) => void) => void;
  'vote:list': (payload: z.input<typeof VoteListSchema>, ack: (a: Ack<{ votes: Vote[] }>) => void) => void;
  'scan:decide': (payload: z.input<typeof DecideSchema>, ack: (a: Ack) => void) => void;
  'scan:lock': (
    payload: z.input<typeof LockSchema>,
    ack: (a: Ack<{ version: number; sha256: string }>) => void,
  ) => void;
  'scan:unlock': (payload: z.input<typeof UnlockSchema>, ack: (a: Ack<{ version: number }>) => void) => void;
  'session:quorum': (
    payload: z.input<typeof QuorumSetSchema>,
    ack: (a: Ack<{ quorum: number }>) => void,
  ) => void;
  /** R-ANALYTICS-1..3: the reader's own capture batch (schema and limits in ./analytics.ts). */
  'analytics:capture': (payload: AnalyticsCaptureInput, ack: (a: AnalyticsCaptureAck) => void) => void;
}

/** Error codes of socket acknowledgements. */
export const SOCKET_ERROR_CODES = [
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'vote_closed',
  'vote_void',
  'already_open',
  'undecided',
  /** R-LOCK-7: a lock needs at least one accepted global label. */
  'no_global_label',
  'already_locked',
  'not_locked',
  'locked',
  'version_mismatch',
  'unavailable',
  'internal',
  /** Lost a race (two locks at once, a vote changed underneath); read the state again. */
  'conflict',
  /** An event name the server does not know (answered when it carries an ack). */
  'unknown_event',
  /** A payload over its event's byte limit (analytics capture); nothing was stored. */
  'payload_too_large',
  /** Sent faster than its event allows (analytics capture); nothing was stored, send later. */
  'rate_limited',
] as const;
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];
