import { ConsensusRecordSchema, type GlobalLabel, decisionKey } from '@cxr/shared';

/** What the lock froze, in the words the panel uses: who, when, and what became the consensus. */
export interface LockSummary {
  readonly version: number;
  readonly lockedBy: string;
  readonly lockedAt: number;
  readonly acceptedBoxes: number;
  readonly rejectedBoxes: number;
  /** Accepted box labels with how many boxes carry each, most frequent first. */
  readonly labels: readonly { readonly label: string; readonly count: number }[];
  readonly acceptedGlobals: readonly string[];
  readonly rejectedGlobals: number;
}

/**
 * Summarises a consensus record as the server returned it. The record is parsed, not trusted:
 * anything that does not fit the schema gives `undefined` and the panel shows version and hash
 * only.
 */
export function summarizeLock(record: unknown): LockSummary | undefined {
  const parsed = ConsensusRecordSchema.safeParse(record);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  const outcome = new Map(r.decisions.map((d) => [decisionKey(d.target), d.outcome]));
  const accepted = r.findings.filter(
    (f) => outcome.get(decisionKey({ kind: 'finding', id: f.id })) === 'accepted',
  );
  const counts = new Map<string, number>();
  for (const f of accepted) for (const label of f.labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  const globalOutcome = (label: GlobalLabel) => outcome.get(decisionKey({ kind: 'global', label }));
  return {
    version: r.version,
    lockedBy: r.lockedBy,
    lockedAt: r.lockedAt,
    acceptedBoxes: accepted.length,
    rejectedBoxes: r.findings.length - accepted.length,
    labels: [...counts]
      .map(([label, count]) => ({ label, count }))
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)),
    acceptedGlobals: r.globals.map((g) => g.label).filter((l) => globalOutcome(l) === 'accepted'),
    rejectedGlobals: r.globals.filter((g) => globalOutcome(g.label) !== 'accepted').length,
  };
}
