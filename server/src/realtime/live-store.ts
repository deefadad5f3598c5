import type { Target, VoteChoice } from '@cxr/shared';

/**
 * The hot, shared state of the live panel. Two back ends implement these interfaces: in-process
 * (one node, no REDIS_URL) and Redis (several nodes). Both pass one contract suite
 * (server/test/realtime/live-store-contract.test.ts). Neither is the source of truth for votes:
 * the database log is, and a vote missing here is rebuilt from it.
 */
export interface LiveVote {
  readonly id: string;
  readonly sessionId: string;
  readonly scanId: string;
  readonly target: Target;
  readonly targetVersion: string;
  readonly quorum: number;
  readonly openedAt: number;
  readonly state: 'open' | 'closed' | 'void';
  readonly outcome: 'accepted' | 'rejected' | null;
  readonly overridden: boolean;
  readonly reason: string | null;
  readonly closedAt: number | null;
  /** Bumped by every change; orders the log entries of one vote and the updates clients see. */
  readonly seq: number;
  readonly ballots: Readonly<Record<string, VoteChoice>>;
}

export type CastOutcome =
  | { status: 'ok'; vote: LiveVote }
  /** Not in the store (Redis lost it): rebuild from the log and try again. */
  | { status: 'missing' }
  /** The vote is not open, or its target changed since it opened (`stale`). */
  | { status: 'closed' | 'void' | 'stale'; vote: LiveVote };

export type FinishOutcome =
  | { status: 'ok'; vote: LiveVote }
  | { status: 'missing' }
  | { status: 'not_open'; vote: LiveVote };

export type FinishRequest =
  | {
      mode: 'close';
      override: { outcome: 'accepted' | 'rejected'; reason: string } | null;
      reason: string | null;
      closedAt: number;
    }
  | { mode: 'void'; reason: string; closedAt: number };

export interface VoteStore {
  /** Stores a vote unless one with its id is there already (open, and rebuild after a loss). */
  restore(vote: LiveVote): Promise<void>;
  get(id: string): Promise<LiveVote | undefined>;
  /**
   * Atomically: is it open, is `currentVersion` still the version it opened on, record the
   * reader's choice (replacing theirs: idempotent on retries), bump `seq`, return the tally.
   */
  cast(id: string, reader: string, choice: VoteChoice, currentVersion: string): Promise<CastOutcome>;
  /**
   * Atomically ends an open vote. Closing decides by the ballots at that instant: accepted when
   * agree >= quorum, unless overridden.
   */
  finish(id: string, request: FinishRequest): Promise<FinishOutcome>;
}

/** One socket's presence; a user with two tabs has two. */
export interface PresenceEntry {
  readonly connId: string;
  readonly userId: string;
  readonly username: string;
  readonly role: 'moderator' | 'reader' | 'observer';
  readonly globalRole: 'admin' | 'moderator' | 'reader';
  readonly scanId: string | null;
  readonly following: boolean;
  readonly lastSeen: number;
}

export interface PresenceStore {
  /** Heartbeat: adds or refreshes entries (each carries all of itself, so a wiped store heals). */
  upsert(sessionId: string, entries: readonly PresenceEntry[]): Promise<void>;
  remove(sessionId: string, connIds: readonly string[]): Promise<void>;
  /** Live entries; those not refreshed within the TTL before `now` are dropped for good. */
  list(sessionId: string, now: number): Promise<PresenceEntry[]>;
}

/** Results of recent commands by command id, so a retried command is answered, not redone. */
export interface CommandCache {
  recall(key: string): Promise<string | undefined>;
  remember(key: string, value: string): Promise<void>;
}

export interface LiveStores {
  readonly votes: VoteStore;
  readonly presence: PresenceStore;
  readonly commands: CommandCache;
  readonly kind: 'memory' | 'redis';
}

export function tally(ballots: Readonly<Record<string, VoteChoice>>) {
  const counts = { agree: 0, disagree: 0, abstain: 0 };
  for (const choice of Object.values(ballots)) counts[choice]++;
  return counts;
}

/** The in-process back end: plain maps; every method runs to completion without awaiting, so it is atomic. */
export function createMemoryLiveStores(options: { presenceTtlMs: number; commandTtlMs: number }): LiveStores {
  const votes = new Map<string, LiveVote>();
  const presence = new Map<string, Map<string, PresenceEntry>>();
  const commands = new Map<string, { value: string; expires: number }>();

  const voteStore: VoteStore = {
    async restore(vote) {
      if (!votes.has(vote.id)) votes.set(vote.id, { ...vote, ballots: { ...vote.ballots } });
    },
    async get(id) {
      return votes.get(id);
    },
    async cast(id, reader, choice, currentVersion) {
      const vote = votes.get(id);
      if (!vote) return { status: 'missing' };
      if (vote.state !== 'open') return { status: vote.state, vote };
      if (vote.targetVersion !== currentVersion) return { status: 'stale', vote };
      const next: LiveVote = { ...vote, seq: vote.seq + 1, ballots: { ...vote.ballots, [reader]: choice } };
      votes.set(id, next);
      return { status: 'ok', vote: next };
    },
    async finish(id, request) {
      const vote = votes.get(id);
      if (!vote) return { status: 'missing' };
      if (vote.state !== 'open') return { status: 'not_open', vote };
      const next: LiveVote =
        request.mode === 'void'
          ? { ...vote, state: 'void', reason: request.reason, closedAt: request.closedAt, seq: vote.seq + 1 }
          : {
              ...vote,
              state: 'closed',
              outcome:
                request.override?.outcome ??
                (tally(vote.ballots).agree >= vote.quorum ? 'accepted' : 'rejected'),
              overridden: request.override !== null,
              reason: request.override?.reason ?? request.reason,
              closedAt: request.closedAt,
              seq: vote.seq + 1,
            };
      votes.set(id, next);
      return { status: 'ok', vote: next };
    },
  };

  const presenceStore: PresenceStore = {
    async upsert(sessionId, entries) {
      let session = presence.get(sessionId);
      if (!session) {
        session = new Map();
        presence.set(sessionId, session);
      }
      for (const entry of entries) session.set(entry.connId, entry);
    },
    async remove(sessionId, connIds) {
      const session = presence.get(sessionId);
      for (const id of connIds) session?.delete(id);
    },
    async list(sessionId, now) {
      const session = presence.get(sessionId);
      if (!session) return [];
      for (const [id, entry] of session) if (entry.lastSeen < now - options.presenceTtlMs) session.delete(id);
      return [...session.values()];
    },
  };

  const commandCache: CommandCache = {
    async recall(key) {
      const hit = commands.get(key);
      if (!hit) return undefined;
      if (hit.expires < Date.now()) {
        commands.delete(key);
        return undefined;
      }
      return hit.value;
    },
    async remember(key, value) {
      // Bounded: drop the oldest entries (insertion order) rather than grow without end.
      if (commands.size > 10_000) {
        for (const k of [...commands.keys()].slice(0, 1000)) commands.delete(k);
      }
      commands.set(key, { value, expires: Date.now() + options.commandTtlMs });
    },
  };

  return { votes: voteStore, presence: presenceStore, commands: commandCache, kind: 'memory' };
}
