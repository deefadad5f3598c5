import type { SessionScan, Target } from '@cxr/shared';
import { decisionKey } from '@cxr/shared';
import { useMemo } from 'react';
import type { AnnotationSnapshot } from '../annotate/store.js';
import { type Api, ApiError, type SessionView as Session } from '../app/api.js';
import { type CommandResult, voteFor } from '../collab/panel-channel.js';
import type { LivePanel } from '../collab/panel-hooks.js';
import { type ScanSummary, useScanSummaries } from '../collab/scan-summaries.js';
import type { BoxStatus } from '../annotate/box-style.js';
import { type ConsensusActions, type PanelReader, TargetConsensus } from '../consensus/TargetConsensus.js';

const UNAVAILABLE = {
  ok: false as const,
  error: { code: 'unavailable', message: 'the live panel is not connected' },
};

/**
 * The consensus side of the open scan: the live panel's votes and commands, the document's
 * decisions, what is still undecided (the server's lock rule), the other scans' summaries for
 * the moderator, and the lock itself.
 */
export function useLiveConsensus(input: {
  api: Api;
  token: string;
  wsBase: string;
  session: Session;
  scan: SessionScan;
  panel: LivePanel | undefined;
  snap: AnnotationSnapshot;
  role: 'moderator' | 'reader' | 'observer';
  userId: string;
  locked: boolean;
  readOnly: boolean;
  blindStage: boolean;
  readers: readonly PanelReader[];
}) {
  const { api, session, scan, panel, snap, role, userId, readOnly, blindStage } = input;
  const channel = panel?.channel;
  const panelSnap = panel?.snapshot;
  const panelLive = panelSnap?.state === 'connected';
  const decisionByKey = new Map(snap.decisions.map((d) => [decisionKey(d.target), d]));
  const votes = panelSnap?.votes;
  const actions: ConsensusActions = {
    openVote: async (target) => (channel ? channel.openVote(scan.scanId, target) : UNAVAILABLE),
    castVote: async (voteId, choice) => (channel ? channel.castVote(voteId, choice) : UNAVAILABLE),
    closeVote: async (voteId, override) => (channel ? channel.closeVote(voteId, override) : UNAVAILABLE),
    decide: async (target, outcome, reason) =>
      channel ? channel.decide(scan.scanId, target, outcome, reason) : UNAVAILABLE,
  };
  const consensusFor = (target: Target) =>
    blindStage ? null : (
      <TargetConsensus
        target={target}
        vote={votes ? voteFor(votes.values(), scan.scanId, target) : undefined}
        decision={decisionByKey.get(decisionKey(target))}
        role={role}
        userId={userId}
        readOnly={readOnly}
        live={panelLive}
        actions={actions}
        readers={input.readers}
      />
    );
  const discussed = [
    ...snap.decisions.flatMap((d) => (d.target.kind === 'global' ? [d.target.label] : [])),
    ...[...(votes?.values() ?? [])].flatMap((v) =>
      v.scanId === scan.scanId && v.target.kind === 'global' ? [v.target.label] : [],
    ),
  ];
  // The server's lock rule: every finding and proposed global label needs a decision.
  const candidateKeys = [
    ...snap.findings.map((f) => decisionKey({ kind: 'finding', id: f.id })),
    ...snap.globals.map((g) => decisionKey({ kind: 'global', label: g.label })),
  ];
  const undecided = candidateKeys.filter((k) => !decisionByKey.has(k)).length;
  // R-LOCK-7: the lock needs an accepted global label; the panel says so before asking.
  const acceptedGlobals = snap.decisions.filter(
    (d) => d.target.kind === 'global' && d.outcome === 'accepted',
  ).length;
  const summary: ScanSummary = { locked: input.locked, undecided, candidates: candidateKeys.length };
  const isModerator = role === 'moderator';
  const otherScans = useMemo(
    () =>
      isModerator
        ? session.scans.filter((s) => s.scanId !== scan.scanId && !s.locked).map((s) => s.scanId)
        : [],
    [isModerator, session.scans, scan.scanId],
  );
  const summaries = useScanSummaries(input.wsBase, input.token, session.id, otherScans);
  const allSummaries = new Map(summaries).set(scan.scanId, summary);
  const lock = async (
    rejectUndecided: boolean,
  ): Promise<CommandResult<{ version: number; sha256: string }>> => {
    if (channel && panelLive) return channel.lock(scan.scanId, rejectUndecided);
    // Without the live panel, the HTTP lock (which has no "reject undecided" option).
    try {
      const info = await api.lock(session.id, scan.scanId);
      return { ok: true, version: info.version, sha256: info.sha256 };
    } catch (e) {
      return {
        ok: false,
        error:
          e instanceof ApiError
            ? { code: e.code, message: e.message }
            : { code: 'internal', message: 'locking failed' },
      };
    }
  };
  const unlock = async (reason: string) => (channel ? channel.unlock(scan.scanId, reason) : UNAVAILABLE);
  const goto = async (id: string) => (channel ? channel.goto(id) : UNAVAILABLE);
  const decisionOf = (id: string) => decisionByKey.get(decisionKey({ kind: 'finding', id }))?.outcome;
  const openVotes = [...(votes?.values() ?? [])].filter(
    (v) => v.state === 'open' && v.scanId === scan.scanId,
  );
  const statusOf = (id: string): BoxStatus =>
    openVotes.some((v) => v.target.kind === 'finding' && v.target.id === id)
      ? 'voting'
      : (decisionOf(id) ?? 'undecided');
  return {
    channel,
    panelSnap,
    panelLive,
    votes,
    actions,
    consensusFor,
    discussed,
    undecided,
    acceptedGlobals,
    allSummaries,
    lock,
    unlock,
    goto,
    decisionOf,
    statusOf,
    openVotes,
  };
}
