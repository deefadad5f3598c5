import type { Finding } from '@cxr/shared';
import type { ReactNode } from 'react';
import { useColorOf } from './colors.js';

/** Every box on the scan, with its labels, author and geometry in image pixels. */
export function FindingsList({
  findings,
  selectedId,
  readOnly,
  authorName,
  onSelect,
  onEditLabels,
  onRemove,
  decisionOf = () => undefined,
  consensus,
}: {
  findings: readonly Finding[];
  selectedId: string | undefined;
  readOnly: boolean;
  authorName: (id: string) => string;
  onSelect: (id: string) => void;
  onEditLabels: (id: string) => void;
  onRemove: (id: string) => void;
  /** The decision recorded on the finding, if any. */
  decisionOf?: (id: string) => 'accepted' | 'rejected' | undefined;
  /** Vote and decision controls under each finding (the consensus layer provides them). */
  consensus?: (finding: Finding) => ReactNode;
}) {
  const colorOf = useColorOf();
  return (
    <section className="panel" aria-labelledby="findings-title" data-testid="findings-panel">
      <h2 id="findings-title">
        Findings{' '}
        <span className="count" data-testid="findings-count">
          {findings.length}
        </span>
      </h2>
      {findings.length === 0 && (
        <p className="muted">No boxes yet. Press B and drag on the image to draw one.</p>
      )}
      <ul className="findings" data-testid="findings-list">
        {findings.map((f) => {
          const b = f.box;
          const decision = decisionOf(f.id);
          return (
            <li
              key={f.id}
              data-testid="finding-item"
              data-finding-id={f.id}
              data-labels={f.labels.join('|')}
              data-box={`${b.x_min},${b.y_min},${b.x_max},${b.y_max}`}
              data-created-by={f.createdBy}
              data-decision={decision ?? ''}
              className={`${f.id === selectedId ? 'selected' : ''} ${decision ? `decided-${decision}` : ''}`}
            >
              <button type="button" className="finding-main" onClick={() => onSelect(f.id)}>
                <span className="swatch" style={{ background: colorOf(f.createdBy) }} />
                <span className="finding-labels">{f.labels.join(', ')}</span>
                <span className="finding-meta">
                  {authorName(f.createdBy)}
                  {f.updatedBy !== f.createdBy ? ` · edited by ${authorName(f.updatedBy)}` : ''} ·{' '}
                  {Math.round(b.x_min)},{Math.round(b.y_min)} – {Math.round(b.x_max)},{Math.round(b.y_max)}
                </span>
              </button>
              {!readOnly && (
                <span className="finding-actions">
                  <button
                    type="button"
                    className="ghost"
                    title="Edit labels (L)"
                    onClick={() => onEditLabels(f.id)}
                  >
                    Labels
                  </button>
                  <button
                    type="button"
                    className="ghost danger"
                    title="Delete (Delete)"
                    data-testid="finding-delete"
                    onClick={() => onRemove(f.id)}
                  >
                    ✕
                  </button>
                </span>
              )}
              {consensus?.(f)}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
