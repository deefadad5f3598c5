import {
  type DecideSchema,
  type LockSchema,
  type QuorumSetSchema,
  type UnlockSchema,
  decisionKey,
  ok,
} from '@cxr/shared';
import type { z } from 'zod';
import type { LockError } from '../collab/lock.js';
import type { RoomKey } from '../db/doc-store.js';
import { type Actor, type LiveContext, checkScan, defaultQuorum, requireModerator } from './context.js';
import { type LiveResult, fromPort, refuse } from './errors.js';
import type { VoteService } from './votes.js';

const fromLock = (error: LockError) => refuse(error.code, error.message);

/** Direct decisions, the lock and the unlock: the moderator's (and an admin's) commands. */
export class ModeratorService {
  constructor(
    private readonly ctx: LiveContext,
    private readonly votes: VoteService,
  ) {}

  async decide(actor: Actor, cmd: z.infer<typeof DecideSchema>): Promise<LiveResult<object>> {
    const allowed = requireModerator(actor);
    if (!allowed.ok) return allowed;
    const scan = await checkScan(this.ctx, actor, cmd.scanId, { unlocked: true });
    if (!scan.ok) return scan;
    const key: RoomKey = { sessionId: actor.sessionId, scanId: cmd.scanId };
    const version = await this.ctx.scanDocs.targetVersion(key, cmd.target);
    if (!version.ok) return fromPort(version.error);
    if (version.value === undefined) return refuse('not_found', 'the target is not in the scan');
    // A direct decision supersedes a vote still running on the same target.
    await this.votes.voidOpen(key, actor.userId, 'decided directly by the moderator', [
      decisionKey(cmd.target),
    ]);
    const written = await this.ctx.scanDocs.writeDecision(key, {
      target: cmd.target,
      outcome: cmd.outcome,
      decidedBy: actor.userId,
      decidedAt: Date.now(),
      ...(cmd.reason ? { reason: cmd.reason } : {}),
    });
    if (!written.ok) return fromPort(written.error);
    // Audited once it is in the document, like a decision by vote.
    await this.ctx.audit.append([
      {
        ...key,
        kind: 'decision',
        actor: actor.userId,
        payload: { target: cmd.target, outcome: cmd.outcome, reason: cmd.reason ?? null, direct: true },
      },
    ]);
    this.ctx.emit(actor.sessionId, 'scan:decided', {
      scanId: cmd.scanId,
      target: cmd.target,
      outcome: cmd.outcome,
    });
    return ok({});
  }

  async lock(
    actor: Actor,
    cmd: z.infer<typeof LockSchema>,
  ): Promise<LiveResult<{ version: number; sha256: string }>> {
    const allowed = requireModerator(actor);
    if (!allowed.ok) return allowed;
    const scan = await checkScan(this.ctx, actor, cmd.scanId);
    if (!scan.ok) return scan;
    const key: RoomKey = { sessionId: actor.sessionId, scanId: cmd.scanId };
    const locked = await this.ctx.scanDocs.locks.lock(key, actor.userId, {
      requireDecided: true,
      requireGlobalLabel: true,
      rejectUndecided: cmd.rejectUndecided,
    });
    if (!locked.ok) return fromLock(locked.error);
    const { version, sha256 } = locked.value;
    await this.ctx.audit.append([
      {
        ...key,
        kind: 'lock',
        actor: actor.userId,
        payload: { version, sha256, rejectUndecided: cmd.rejectUndecided },
      },
    ]);
    // Nothing can be decided on a locked scan; votes still running end as void.
    await this.votes.voidOpen(key, actor.userId, 'the scan was locked');
    this.ctx.emit(actor.sessionId, 'scan:locked', { scanId: cmd.scanId, version, sha256 });
    return ok({ version, sha256 });
  }

  async unlock(actor: Actor, cmd: z.infer<typeof UnlockSchema>): Promise<LiveResult<{ version: number }>> {
    if (actor.globalRole !== 'admin') return refuse('forbidden', 'only an admin may unlock a scan');
    const scan = await checkScan(this.ctx, actor, cmd.scanId);
    if (!scan.ok) return scan;
    const key: RoomKey = { sessionId: actor.sessionId, scanId: cmd.scanId };
    const unlocked = await this.ctx.scanDocs.locks.unlock(key, actor.userId, cmd.reason);
    if (!unlocked.ok) return fromLock(unlocked.error);
    const { version } = unlocked.value;
    await this.ctx.audit.append([
      { ...key, kind: 'unlock', actor: actor.userId, payload: { version, reason: cmd.reason } },
    ]);
    this.ctx.emit(actor.sessionId, 'scan:unlocked', { scanId: cmd.scanId, version, reason: cmd.reason });
    return ok({ version });
  }

  /** Votes opened afterwards use the new quorum; running votes keep the one they opened with. */
  async setQuorum(
    actor: Actor,
    cmd: z.infer<typeof QuorumSetSchema>,
  ): Promise<LiveResult<{ quorum: number }>> {
    const allowed = requireModerator(actor);
    if (!allowed.ok) return allowed;
    await this.ctx.votes.setQuorum(actor.sessionId, cmd.quorum);
    const panel = await this.ctx.panels.get(actor.sessionId);
    this.ctx.log.info({ sessionId: actor.sessionId, quorum: cmd.quorum, by: actor.userId }, 'quorum set');
    return ok({ quorum: cmd.quorum ?? defaultQuorum(panel?.session.readerIds.length ?? 0) });
  }
}
