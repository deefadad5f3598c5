import {
  type Finding,
  GLOBAL_LABELS,
  type GlobalLabel,
  type GlobalProposal,
  checkReadingRules,
} from '@cxr/shared';
import type { ReactNode } from 'react';
import { globalBlocked } from './store.js';

export function globalTestId(label: string): string {
  return `global-label-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

/**
 * The 6 image-level labels with the VinDr rules: "No finding" excludes the others and every
 * box; a valid reading has at least one global label. Buttons that the rules block say why.
 */
export function GlobalLabelsPanel({
  findings,
  globals,
  readOnly,
  authorName,
  onToggle,
  discussed = [],
  consensus,
  tally,
}: {
  findings: readonly Finding[];
  globals: readonly GlobalProposal[];
  readOnly: boolean;
  authorName: (id: string) => string;
  onToggle: (label: (typeof GLOBAL_LABELS)[number]) => void;
  /** Labels with a vote or a decision, shown even when no longer proposed. */
  discussed?: readonly GlobalLabel[];
  /** Vote and decision controls for a label (the consensus layer provides them). */
  consensus?: (label: GlobalLabel) => ReactNode;
  /** The blind stage's reader tally of a label, shown on its button after the reveal. */
  tally?: (label: GlobalLabel) => ReactNode;
}) {
  const problems = checkReadingRules(findings, globals);
  const byLabel = new Map(globals.map((g) => [g.label, g]));
  return (
    <section className="panel" aria-labelledby="globals-title" data-testid="globals-panel">
      <h2 id="globals-title">Global labels</h2>
      <div className="globals">
        {GLOBAL_LABELS.map((label) => {
          const proposal = byLabel.get(label);
          const blocked = globalBlocked(label, findings, globals);
          return (
            <button
              key={label}
              type="button"
              className={`toggle ${proposal ? 'on' : ''}`}
              aria-pressed={proposal !== undefined}
              data-testid={globalTestId(label)}
              data-label={label}
              disabled={readOnly || blocked !== undefined}
              title={blocked ?? (proposal ? `Proposed by ${authorName(proposal.proposedBy)}` : 'Propose')}
              onClick={() => onToggle(label)}
            >
              {label}
              {proposal && <small> · {authorName(proposal.proposedBy)}</small>}
              {tally?.(label)}
            </button>
          );
        })}
      </div>
      <p
        className={`rules ${problems.length === 0 ? 'ok' : 'warn'}`}
        data-testid="reading-rules"
        data-valid={problems.length === 0}
      >
        {problems.length === 0 ? 'Reading satisfies the VinDr-CXR rules' : problems.join('; ')}
      </p>
      {consensus && (
        <ul className="global-consensus">
          {GLOBAL_LABELS.filter((l) => byLabel.has(l) || discussed.includes(l)).map((label) => (
            <li
              key={label}
              data-testid="global-consensus"
              data-label={label}
              data-proposed={byLabel.has(label)}
            >
              <span className={byLabel.has(label) ? '' : 'muted'}>{label}</span>
              {consensus(label)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
