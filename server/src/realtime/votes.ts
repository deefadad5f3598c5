import { createHash } from 'node:crypto';
import {
  type Decision,
  type Vote,
  type VoteCastSchema,
  type VoteCloseSchema,
  type VoteOpenSchema,
  decisionKey,
  ok,
} from '@cxr/shared';
import type { z } from 'zod';
import type { RoomKey } from '../db/doc-store.js';
import { STILL_OPEN, type VoteRecord } from '../db/votes-store.js';
import { type Actor, type LiveContext, checkScan, defaultQuorum, requireModerator } from './context.js';
import { type LiveResult, fromPort, refuse } from './errors.js';
import { type LiveVote, tally } from './live-store.js';
import { replayVote } from './vote-log.js';

/** The wire shape of a vote (shared/src/protocol/socket-events.ts `VoteSchema`). */
export function toWire(vote: LiveVote): Vote {
  return {
    id: vote.id,
    sessionId: vote.sessionId,
    scanId: vote.scanId,
    target: vote.target,
    targetVersion: vote.targetVersion,
    state: vote.state,
    tally: tally(vote.ballots),
    ballots: { ...vote.ballots },
    outcome: vote.outcome,
    overridden: vote.overridden,
    reason: vote.reason,
    openedAt: vote.openedAt,
    closedAt: vote.closedAt,
    quorum: vote.quorum,
    seq: vote.seq,
  };
}

/** Thrown inside a transaction to roll it back when the target already has an open vote. */
class AlreadyOpen extends Error {}

/** How long one read of the scans with open votes answers for every scan (see mayHaveOpenVotes). */
const OPEN_SCANS_TTL_MS = 500;

/**
 * Votes: the live store decides (atomically) and the database log remembers. Every accepted
 * open, cast, close and void is appended to the scan's audit chain before it is acknowledged,
 * so a vote the live store lost is rebuilt from the log (`rebuild`).
 */
export class VoteService {
  /** Static facts about votes (session, scan, target): they never change, so cache them. */
  private readonly records = new Map<string, Promise<VoteRecord | undefined>>();

  /**
   * The scans with an open vote, read for all scans at once and trusted for OPEN_SCANS_TTL_MS.
   * Every move of a box is a change: asking the database per move cost more than the move, and
   * asking per scan every 500 ms was still 400 queries a second at 200 busy rooms (4% of the
   * event loop); one read serves them all. Votes opened on another node are seen within the TTL.
   */
  private openScans: { readAt: number; scans: Promise<Set<string>> } | undefined;
  /**
   * Scans where this node opened a vote since the current read started: that read may have
   * missed it, so they count as having one. A read that starts later sees every vote stored
   * before it (each open marks its scan again once stored), so starting one clears the set.
   */
  private readonly openedHere = new Set<string>();

  constructor(private readonly ctx: LiveContext) {}

  async open(actor: Actor, cmd: z.infer<typeof VoteOpenSchema>): Promise<LiveResult<{ vote: Vote }>> {
    const allowed = requireModerator(actor);
    if (!allowed.ok) return allowed;
    const scan = await checkScan(this.ctx, actor, cmd.scanId, { unlocked: true });
    if (!scan.ok) return scan;
    const key: RoomKey = { sessionId: actor.sessionId, scanId: cmd.scanId };
    this.openedHere.add(`${key.sessionId}/${key.scanId}`);
    const version = await this.ctx.scanDocs.targetVersion(key, cmd.target);
    if (!version.ok) return fromPort(version.error);
    if (version.value === undefined) return refuse('not_found', 'the target is not in the scan');

    // The id derives from the command, so a retried open finds the vote it already made.
    const id = `v-${createHash('sha256').update(`${actor.sessionId}\n${actor.userId}\n${cmd.commandId}`).digest('hex').slice(0, 32)}`;
    if (await this.ctx.votes.get(id)) return this.current(id);
    const override = await this.ctx.votes.quorum(actor.sessionId);
    const panel = await this.ctx.panels.get(actor.sessionId);
    const record: VoteRecord = {
      id,
      sessionId: actor.sessionId,
      scanId: cmd.scanId,
      target: cmd.target,
      targetKey: decisionKey(cmd.target),
      targetVersion: version.value,
      quorum: override ?? defaultQuorum(panel?.session.readerIds.length ?? 0),
      openedBy: actor.userId,
      openedAt: Date.now(),
      ...STILL_OPEN,
    };
    try {
      await this.ctx.audit.append(
        [
          {
            sessionId: actor.sessionId,
            scanId: cmd.scanId,
            kind: 'vote-open',
            actor: actor.userId,
            ref: id,
            payload: { voteId: id, target: cmd.target, targetVersion: version.value, quorum: record.quorum },
          },
        ],
        async (tx) => {
          if (!(await this.ctx.votes.insertOpen(tx, record))) throw new AlreadyOpen();
        },
      );
    } catch (error) {
      if (!(error instanceof AlreadyOpen)) throw error;
      // Lost to a concurrent retry of this very command, or the target has another open vote.
      if (await this.ctx.votes.get(id)) return this.current(id);
      return refuse('already_open', 'this target already has an open vote');
    }
    const vote = replayVote(record, []);
    await this.ctx.live.votes.restore(vote);
    this.ctx.emit(actor.sessionId, 'vote:update', { vote: toWire(vote) });
    // Again once stored: a read that started before the insert may not hold it.
    this.openedHere.add(`${key.sessionId}/${key.scanId}`);
    return ok({ vote: toWire(vote) });
  }

  async cast(actor: Actor, cmd: z.infer<typeof VoteCastSchema>): Promise<LiveResult<{ vote: Vote }>> {
    if (actor.role !== 'reader') return refuse('forbidden', 'only the panel’s readers vote');
    const record = await this.record(cmd.voteId);
    if (!record || record.sessionId !== actor.sessionId) return refuse('not_found', 'no such vote');
    const version = await this.ctx.scanDocs.targetVersion(
      { sessionId: record.sessionId, scanId: record.scanId },
      record.target,
    );
    if (!version.ok) return fromPort(version.error);
    // An absent target ('') never equals a real version: the cast is refused as stale.
    const cast = () => this.ctx.live.votes.cast(record.id, actor.userId, cmd.choice, version.value ?? '');
    let result = await cast();
    if (result.status === 'missing') {
      await this.rebuild(record.id);
      result = await cast();
    }
    switch (result.status) {
      case 'missing':
        return refuse('unavailable', 'the vote could not be restored; try again');
      case 'closed':
        return refuse('vote_closed', 'the vote is closed');
      case 'void':
        return refuse('vote_void', 'the vote was voided');
      case 'stale':
        // Not voided here: this node's copy of the document may merely lag behind another node's
        // (the vote opened there). The node that stores a real change voids the vote (onChange).
        return refuse('conflict', 'the target differs from the version the vote is about; try again');
      case 'ok': {
        await this.ctx.auditBatcher.append({
          sessionId: record.sessionId,
          scanId: record.scanId,
          kind: 'vote-cast',
          actor: actor.userId,
          ref: record.id,
          payload: { voteId: record.id, seq: result.vote.seq, reader: actor.userId, choice: cmd.choice },
        });
        const vote = toWire(result.vote);
        this.ctx.emit(actor.sessionId, 'vote:update', { vote });
        return ok({ vote });
      }
    }
  }

  async close(actor: Actor, cmd: z.infer<typeof VoteCloseSchema>): Promise<LiveResult<{ vote: Vote }>> {
    const allowed = requireModerator(actor);
    if (!allowed.ok) return allowed;
    const record = await this.record(cmd.voteId);
    if (!record || record.sessionId !== actor.sessionId) return refuse('not_found', 'no such vote');
    const scan = await checkScan(this.ctx, actor, record.scanId, { unlocked: true });
    if (!scan.ok) return scan;
    const finished = await this.finishLive(record.id, {
      mode: 'close',
      override: cmd.override ?? null,
      reason: null,
      closedAt: Date.now(),
    });
    if (finished.status === 'missing')
      return refuse('unavailable', 'the vote could not be restored; try again');
    if (finished.status === 'not_open') {
      return finished.vote.state === 'void'
        ? refuse('vote_void', 'the vote was voided')
        : refuse('vote_closed', 'the vote is already closed');
    }
    const vote = finished.vote;
    const counts = tally(vote.ballots);
    const outcome = vote.outcome ?? 'rejected';
    const reason =
      cmd.override?.reason ??
      `by vote: ${counts.agree} agree, ${counts.disagree} disagree, ${counts.abstain} abstain (quorum ${vote.quorum})`;
    const decision: Decision = {
      target: vote.target,
      outcome,
      decidedBy: actor.userId,
      decidedAt: vote.closedAt ?? Date.now(),
      reason,
    };
    await this.persistFinish(vote, actor.userId, 'vote-close');
    this.ctx.emit(actor.sessionId, 'vote:update', { vote: toWire(vote) });
    // The audit records a decision only once it is in the document.
    const written = await this.ctx.scanDocs.writeDecision(
      { sessionId: vote.sessionId, scanId: vote.scanId },
      decision,
    );
    if (!written.ok) return fromPort(written.error);
    await this.ctx.audit.append([
      {
        sessionId: vote.sessionId,
        scanId: vote.scanId,
        kind: 'decision',
        actor: actor.userId,
        payload: { target: vote.target, outcome, reason, voteId: vote.id, overridden: vote.overridden },
      },
    ]);
    this.ctx.emit(actor.sessionId, 'scan:decided', { scanId: vote.scanId, target: vote.target, outcome });
    return ok({ vote: toWire(vote) });
  }

  /** Ends an open vote as void (target changed, decided directly, scan locked). */
  async void(voteId: string, actorId: string, reason: string): Promise<void> {
    const finished = await this.finishLive(voteId, { mode: 'void', reason, closedAt: Date.now() });
    if (finished.status !== 'ok') return;
    await this.persistFinish(finished.vote, actorId, 'vote-void');
    this.ctx.emit(finished.vote.sessionId, 'vote:update', { vote: toWire(finished.vote) });
  }

  /** Voids every open vote of a scan, or only those on the given targets. */
  async voidOpen(
    key: RoomKey,
    actorId: string,
    reason: string,
    targetKeys?: readonly string[],
  ): Promise<void> {
    const open = await this.ctx.votes.openFor(key.sessionId, key.scanId, targetKeys);
    for (const vote of open) await this.void(vote.id, actorId, reason);
  }

  /**
   * After a stored change to some targets: voids their open votes whose target is no longer
   * the version voted on. Comparing versions (not just "it changed") matters: the change that
   * created a finding can be reported after a vote on it opened, and must not void it.
   */
  async voidChanged(key: RoomKey, targetKeys: readonly string[]): Promise<void> {
    if (!(await this.mayHaveOpenVotes(`${key.sessionId}/${key.scanId}`))) return;
    const open = await this.ctx.votes.openFor(key.sessionId, key.scanId, targetKeys);
    for (const vote of open) {
      const version = await this.ctx.scanDocs.targetVersion(key, vote.target);
      if (!version.ok) {
        this.ctx.log.warn({ voteId: vote.id, error: version.error }, 'cannot check a vote against a change');
        continue;
      }
      if (version.value !== vote.targetVersion) await this.void(vote.id, 'system', 'the target changed');
    }
  }

  /** False only when the scan certainly had no open vote a moment ago (OPEN_SCANS_TTL_MS). */
  private async mayHaveOpenVotes(scanKey: string): Promise<boolean> {
    const now = Date.now();
    if (!this.openScans || now - this.openScans.readAt >= OPEN_SCANS_TTL_MS) {
      this.openedHere.clear();
      const scans = this.ctx.votes.scansWithOpenVotes();
      const read = { readAt: now, scans };
      this.openScans = read;
      // A failed read is not remembered: the next change asks again (and this one reports it).
      scans.catch(() => {
        if (this.openScans === read) this.openScans = undefined;
      });
    }
    if (this.openedHere.has(scanKey)) return true;
    return (await this.openScans.scans).has(scanKey);
  }

  async list(actor: Actor, scanId: string): Promise<LiveResult<{ votes: Vote[] }>> {
    const scan = await checkScan(this.ctx, actor, scanId);
    if (!scan.ok) return scan;
    const records = await this.ctx.votes.forScan(actor.sessionId, scanId);
    const votes: Vote[] = [];
    for (const record of records) {
      const live = (await this.ctx.live.votes.get(record.id)) ?? (await this.rebuild(record.id));
      if (live) votes.push(toWire(live));
    }
    return ok({ votes });
  }

  /**
   * Puts a vote back into the live store from the database (its row and its audit entries).
   * Writes only if the vote is still absent there, then reads back what the store holds, so
   * two nodes rebuilding at once agree.
   */
  async rebuild(voteId: string): Promise<LiveVote | undefined> {
    const record = await this.ctx.votes.get(voteId);
    if (!record) return undefined;
    const vote = replayVote(record, await this.ctx.audit.byRef(voteId));
    await this.ctx.live.votes.restore(vote);
    this.ctx.log.info({ voteId, sessionId: record.sessionId, seq: vote.seq }, 'vote rebuilt from the log');
    return (await this.ctx.live.votes.get(voteId)) ?? vote;
  }

  private async current(id: string): Promise<LiveResult<{ vote: Vote }>> {
    const vote = (await this.ctx.live.votes.get(id)) ?? (await this.rebuild(id));
    return vote ? ok({ vote: toWire(vote) }) : refuse('not_found', 'no such vote');
  }

  private record(id: string): Promise<VoteRecord | undefined> {
    let hit = this.records.get(id);
    if (!hit) {
      hit = this.ctx.votes.get(id);
      this.records.set(id, hit);
      // Only remember votes that exist; an unknown id may be opened later (or be garbage).
      hit.then(
        (r) => r ?? this.records.delete(id),
        () => this.records.delete(id),
      );
    }
    return hit;
  }

  private async finishLive(id: string, request: Parameters<LiveContext['live']['votes']['finish']>[1]) {
    let result = await this.ctx.live.votes.finish(id, request);
    if (result.status === 'missing') {
      await this.rebuild(id);
      result = await this.ctx.live.votes.finish(id, request);
    }
    return result;
  }

  /** The final state and its log entry (with the frozen ballots) commit together. */
  private async persistFinish(
    vote: LiveVote,
    actorId: string,
    kind: 'vote-close' | 'vote-void',
  ): Promise<void> {
    const base = { sessionId: vote.sessionId, scanId: vote.scanId, actor: actorId };
    let stale = false;
    await this.ctx.audit.append(
      [
        {
          ...base,
          kind,
          ref: vote.id,
          payload: {
            voteId: vote.id,
            seq: vote.seq,
            state: vote.state,
            outcome: vote.outcome,
            overridden: vote.overridden,
            reason: vote.reason,
            ballots: vote.ballots,
            tally: tally(vote.ballots),
          },
        },
      ],
      async (tx) => {
        const finish = {
          state: vote.state === 'void' ? ('void' as const) : ('closed' as const),
          outcome: vote.outcome,
          overridden: vote.overridden,
          reason: vote.reason,
          closedAt: vote.closedAt ?? Date.now(),
        };
        stale = !(await this.ctx.votes.finish(tx, vote.id, finish));
      },
    );
    // Only possible after the live store lost a finished vote and rebuilt it as open; the log
    // still records what the live store decided this time.
    if (stale) this.ctx.log.warn({ voteId: vote.id }, 'vote finished again after a rebuild');
  }
}
