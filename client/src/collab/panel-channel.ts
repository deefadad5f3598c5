import {
  type AckError,
  type PresenceMember,
  PresenceMemberSchema,
  type Target,
  TargetSchema,
  type Vote,
  type VoteChoice,
  VoteSchema,
} from '@cxr/shared';
import { z } from 'zod';

/**
 * The live panel of one reading session over socket.io: presence, follow-the-moderator, votes,
 * decisions and lock. The channel depends on a small socket interface (not on socket.io), so
 * unit tests drive it with an in-memory socket; `socket-io.ts` adapts the real client.
 *
 * Every server payload is parsed with the shared schemas (never cast); a payload that does not
 * parse is counted and reported, not silently dropped. Commands are acknowledged
 * `{ok: true, ...}` or `{ok: false, error}`; a command sent while disconnected, or not answered
 * in time, resolves to an `unavailable` error instead of being buffered for a later reconnect.
 */

/** What the channel needs from a socket: named events in, commands with an acknowledgement out. */
export interface ChannelSocket {
  readonly connected: boolean;
  /** False once the client gave up reconnecting (handshake refused, or the server disconnected it). */
  readonly active: boolean;
  on(event: string, listener: (...args: unknown[]) => void): void;
  emit(event: string, payload: unknown, ack: (answer: unknown) => void): void;
  connect(): void;
  disconnect(): void;
}

export type ChannelState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface PanelSnapshot {
  readonly state: ChannelState;
  /** Why the channel is stopped or the last connection attempt failed. */
  readonly error: AckError | undefined;
  readonly members: readonly PresenceMember[];
  /** Every vote seen in this session, by id. */
  readonly votes: ReadonlyMap<string, Vote>;
  /** This user follows the moderator's "go to scan". */
  readonly following: boolean;
  readonly scanId: string | null;
  /** Completed (re)connections; the state after each was resynced from the server. */
  readonly connects: number;
  /** Server payloads that did not parse (a protocol mismatch worth showing). */
  readonly invalidPayloads: number;
}

/** Things that happened, for the views to act on (navigate, reload the worklist, notify). */
export type PanelEvent =
  | { readonly kind: 'goto'; readonly scanId: string; readonly by: string; readonly following: boolean }
  | {
      readonly kind: 'decided';
      readonly scanId: string;
      readonly target: Target;
      readonly outcome: 'accepted' | 'rejected';
    }
  | { readonly kind: 'locked'; readonly scanId: string; readonly version: number; readonly sha256: string }
  | { readonly kind: 'unlocked'; readonly scanId: string; readonly version: number; readonly reason: string };

export type CommandResult<T> = ({ ok: true } & T) | { ok: false; error: AckError };

const COMMAND_TIMEOUT_MS = 8000;

const AckErrorSchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});
const AckOkSchema = z.object({ ok: z.literal(true) });
const VoteAckSchema = AckOkSchema.extend({ vote: VoteSchema });
const VotesAckSchema = AckOkSchema.extend({ votes: z.array(VoteSchema) });
const LockAckSchema = AckOkSchema.extend({ version: z.number(), sha256: z.string() });
const UnlockAckSchema = AckOkSchema.extend({ version: z.number() });

const PresencePayload = z.object({ members: z.array(PresenceMemberSchema) });
const GotoPayload = z.object({ scanId: z.string(), by: z.string() });
const VotePayload = z.object({ vote: VoteSchema });
const DecidedPayload = z.object({
  scanId: z.string(),
  target: TargetSchema,
  outcome: z.enum(['accepted', 'rejected']),
});
const LockedPayload = z.object({ scanId: z.string(), version: z.number(), sha256: z.string() });
const UnlockedPayload = z.object({ scanId: z.string(), version: z.number(), reason: z.string() });
const RevokedPayload = z.object({ code: z.string(), message: z.string() });
const RestartingPayload = z.object({ code: z.number(), reason: z.string() });

/** Client-made command ids make retries idempotent on the server. */
export function newCommandId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `cmd-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * Copies of a vote can arrive out of order (a `vote:list` answer racing a `vote:update`, two
 * server nodes). The server numbers every change (`seq`): the highest wins. Without numbers,
 * a closed or voided vote never goes back to open; otherwise the newest copy wins.
 */
export function mergeVote(current: Vote | undefined, incoming: Vote): Vote {
  if (!current) return incoming;
  if (current.seq !== undefined && incoming.seq !== undefined) {
    return incoming.seq >= current.seq ? incoming : current;
  }
  if (current.state !== 'open' && incoming.state === 'open') return current;
  return incoming;
}

/** The vote shown for a target on a scan: the open one, else the most recently opened. */
export function voteFor(votes: Iterable<Vote>, scanId: string, target: Target): Vote | undefined {
  let best: Vote | undefined;
  for (const v of votes) {
    if (v.scanId !== scanId || !sameTarget(v.target, target)) continue;
    if (!best) best = v;
    else if (v.state === 'open' && best.state !== 'open') best = v;
    else if ((v.state === 'open') === (best.state === 'open') && v.openedAt > best.openedAt) best = v;
  }
  return best;
}

export function sameTarget(a: Target, b: Target): boolean {
  if (a.kind === 'finding') return b.kind === 'finding' && a.id === b.id;
  return b.kind === 'global' && a.label === b.label;
}

export class PanelChannel {
  private snapshot: PanelSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: PanelEvent) => void>();
  private disposed = false;
  /** Set on (re)connect: a follower catches up with the moderator once presence arrives. */
  private catchUp = false;
  private revoked: AckError | undefined;
  /** Set by `server:restarting`, cleared on the next connect. */
  private restarting = false;

  constructor(
    private readonly socket: ChannelSocket,
    options: { following?: boolean; scanId?: string | null } = {},
    private readonly timeoutMs = COMMAND_TIMEOUT_MS,
  ) {
    this.snapshot = {
      state: 'connecting',
      error: undefined,
      members: [],
      votes: new Map(),
      following: options.following ?? false,
      scanId: options.scanId ?? null,
      connects: 0,
      invalidPayloads: 0,
    };
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', (reason) => this.onDisconnect(String(reason)));
    socket.on('connect_error', (error) => this.onConnectError(error));
    socket.on('presence:update', (p) => this.parsed(PresencePayload, p, (v) => this.onPresence(v.members)));
    socket.on('session:goto', (p) =>
      this.parsed(GotoPayload, p, (v) =>
        this.fire({ kind: 'goto', scanId: v.scanId, by: v.by, following: this.snapshot.following }),
      ),
    );
    socket.on('vote:update', (p) => this.parsed(VotePayload, p, (v) => this.putVotes([v.vote])));
    socket.on('scan:decided', (p) =>
      this.parsed(DecidedPayload, p, (v) => this.fire({ kind: 'decided', ...v })),
    );
    socket.on('scan:locked', (p) =>
      this.parsed(LockedPayload, p, (v) => this.fire({ kind: 'locked', ...v })),
    );
    socket.on('scan:unlocked', (p) =>
      this.parsed(UnlockedPayload, p, (v) => this.fire({ kind: 'unlocked', ...v })),
    );
    // Access revoked (account disabled, role changed, removed from the panel): the server
    // disconnects right after; reconnecting cannot help, so stop and keep its reason.
    socket.on('access:revoked', (p) =>
      this.parsed(RevokedPayload, p, (v) => {
        this.revoked = { code: v.code, message: v.message };
        this.socket.disconnect();
        this.set({ state: 'stopped', error: this.revoked, members: [] });
      }),
    );
    // The node is stopping (R-OPS-4): socket.io reconnects by itself once the transport closes;
    // until then say why the panel is away rather than show a bare "reconnecting".
    socket.on('server:restarting', (p) =>
      this.parsed(RestartingPayload, p, () => {
        this.restarting = true;
      }),
    );
    if (socket.connected) this.onConnect();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): PanelSnapshot => this.snapshot;

  onEvent(listener: (event: PanelEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  dispose(): void {
    this.disposed = true;
    this.socket.disconnect();
    this.listeners.clear();
    this.eventListeners.clear();
  }

  /** Tells the panel which scan this user is on and loads that scan's votes. */
  setScan(scanId: string | null): void {
    if (scanId === this.snapshot.scanId) return;
    this.set({ scanId });
    if (this.socket.connected) this.announce();
  }

  /**
   * Follows (or stops following) the moderator. Coming back to following jumps to the
   * moderator's current scan, as a `goto` event, so "come back" means "be where they are".
   */
  setFollowing(following: boolean): void {
    if (following === this.snapshot.following) return;
    this.set({ following });
    if (this.socket.connected) {
      void this.command('follow:set', { following }, AckOkSchema);
    }
    if (following) {
      const moderator = this.snapshot.members.find((m) => m.role === 'moderator' && m.online);
      if (moderator?.scanId && moderator.scanId !== this.snapshot.scanId) {
        this.fire({ kind: 'goto', scanId: moderator.scanId, by: moderator.userId, following: true });
      }
    }
  }

  goto(scanId: string): Promise<CommandResult<object>> {
    return this.command('moderator:goto', { scanId }, AckOkSchema);
  }

  async openVote(scanId: string, target: Target): Promise<CommandResult<{ vote: Vote }>> {
    return this.voteCommand('vote:open', { commandId: newCommandId(), scanId, target });
  }

  async castVote(voteId: string, choice: VoteChoice): Promise<CommandResult<{ vote: Vote }>> {
    return this.voteCommand('vote:cast', { commandId: newCommandId(), voteId, choice });
  }

  async closeVote(
    voteId: string,
    override?: { outcome: 'accepted' | 'rejected'; reason: string },
  ): Promise<CommandResult<{ vote: Vote }>> {
    return this.voteCommand('vote:close', {
      commandId: newCommandId(),
      voteId,
      ...(override ? { override } : {}),
    });
  }

  decide(
    scanId: string,
    target: Target,
    outcome: 'accepted' | 'rejected',
    reason?: string,
  ): Promise<CommandResult<object>> {
    return this.command(
      'scan:decide',
      { commandId: newCommandId(), scanId, target, outcome, ...(reason ? { reason } : {}) },
      AckOkSchema,
    );
  }

  lock(
    scanId: string,
    rejectUndecided: boolean,
  ): Promise<CommandResult<{ version: number; sha256: string }>> {
    return this.command('scan:lock', { commandId: newCommandId(), scanId, rejectUndecided }, LockAckSchema);
  }

  /** Admins only: reopens a locked scan; the old consensus record stays, the next lock is a new version. */
  unlock(scanId: string, reason: string): Promise<CommandResult<{ version: number }>> {
    return this.command('scan:unlock', { commandId: newCommandId(), scanId, reason }, UnlockAckSchema);
  }

  private async voteCommand(event: string, payload: object): Promise<CommandResult<{ vote: Vote }>> {
    const answer = await this.command(event, payload, VoteAckSchema);
    if (answer.ok) this.putVotes([answer.vote]);
    return answer;
  }

  /** Sends a command and parses its acknowledgement; never rejects. */
  command<T extends object>(
    event: string,
    payload: object,
    schema: z.ZodType<{ ok: true } & T>,
  ): Promise<CommandResult<T>> {
    if (!this.socket.connected) {
      return Promise.resolve({
        ok: false,
        error: { code: 'unavailable', message: 'not connected to the live panel' },
      });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(
        () =>
          resolve({
            ok: false,
            error: {
              code: 'unavailable',
              message: `the server did not answer in ${Math.round(this.timeoutMs / 1000)} s`,
            },
          }),
        this.timeoutMs,
      );
      this.socket.emit(event, payload, (answer: unknown) => {
        clearTimeout(timer);
        const failed = AckErrorSchema.safeParse(answer);
        if (failed.success) return resolve({ ok: false, error: failed.data.error });
        const parsed = schema.safeParse(answer);
        if (parsed.success) return resolve(parsed.data);
        this.set({ invalidPayloads: this.snapshot.invalidPayloads + 1 });
        resolve({ ok: false, error: { code: 'bad_response', message: `unexpected answer to ${event}` } });
      });
    });
  }

  /**
   * Every (re)connection starts from the server's truth: where this user is, whether they
   * follow, and the current scan's votes (vote updates missed while away are in that list).
   */
  private onConnect(): void {
    this.catchUp = true;
    this.restarting = false;
    this.set({ state: 'connected', error: undefined, connects: this.snapshot.connects + 1 });
    void this.command('follow:set', { following: this.snapshot.following }, AckOkSchema);
    this.announce();
  }

  /**
   * A follower who (re)connects may have missed `session:goto` while away: once the
   * moderator's position is known, they are taken there.
   */
  private onPresence(members: PresenceMember[]): void {
    this.set({ members });
    if (!this.catchUp || !this.snapshot.following) return;
    const moderator = members.find((m) => m.role === 'moderator' && m.online && m.scanId !== null);
    if (!moderator?.scanId) return;
    this.catchUp = false;
    if (moderator.scanId !== this.snapshot.scanId) {
      this.fire({ kind: 'goto', scanId: moderator.scanId, by: moderator.userId, following: true });
    }
  }

  private announce(): void {
    const scanId = this.snapshot.scanId;
    void this.command('presence:scan', { scanId }, AckOkSchema);
    if (scanId) void this.resyncVotes(scanId);
  }

  private async resyncVotes(scanId: string): Promise<void> {
    const answer = await this.command('vote:list', { scanId }, VotesAckSchema);
    if (!answer.ok || this.disposed) return;
    const votes = new Map(this.snapshot.votes);
    for (const [id, v] of votes) if (v.scanId === scanId) votes.delete(id);
    for (const v of answer.votes) votes.set(v.id, mergeVote(this.snapshot.votes.get(v.id), v));
    this.set({ votes });
  }

  private onDisconnect(reason: string): void {
    if (this.disposed || this.revoked) return;
    // "io server disconnect": the server closed this socket on purpose; socket.io won't retry.
    const stopped = !this.socket.active;
    this.set({
      state: stopped ? 'stopped' : 'reconnecting',
      error: stopped
        ? { code: 'disconnected', message: `the server closed the live panel (${reason})` }
        : this.restarting
          ? { code: 'restarting', message: 'the server is restarting; reconnecting' }
          : undefined,
      members: this.snapshot.members.map((m) => ({ ...m, online: false })),
    });
  }

  private onConnectError(error: unknown): void {
    if (this.disposed) return;
    const message = error instanceof Error ? error.message : String(error);
    const data = typeof error === 'object' && error !== null ? Reflect.get(error, 'data') : undefined;
    const code =
      typeof data === 'object' && data !== null && typeof Reflect.get(data, 'code') === 'string'
        ? String(Reflect.get(data, 'code'))
        : 'connect_error';
    // A refusal by the server's handshake check is final (socket.io does not retry it).
    const stopped = !this.socket.active;
    this.set({
      state: stopped ? 'stopped' : this.snapshot.connects > 0 ? 'reconnecting' : 'connecting',
      error: { code, message },
    });
  }

  private putVotes(incoming: readonly Vote[]): void {
    const votes = new Map(this.snapshot.votes);
    for (const v of incoming) votes.set(v.id, mergeVote(votes.get(v.id), v));
    this.set({ votes });
  }

  private parsed<T>(schema: z.ZodType<T>, payload: unknown, use: (value: T) => void): void {
    const parsed = schema.safeParse(payload);
    if (parsed.success) use(parsed.data);
    else {
      console.warn('live panel: unexpected payload', parsed.error.issues[0]);
      this.set({ invalidPayloads: this.snapshot.invalidPayloads + 1 });
    }
  }

  private fire(event: PanelEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  private set(change: Partial<PanelSnapshot>): void {
    if (this.disposed) return;
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}
