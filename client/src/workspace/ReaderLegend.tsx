import type { ColorOf } from '../annotate/colors.js';

export interface LegendMember {
  readonly id: string;
  readonly name: string;
  readonly role: 'moderator' | 'reader' | 'observer';
  readonly boxes: number;
}

/**
 * Whose colour is whose, over the film's corner, with a switch per member that hides or shows
 * their boxes on the image (the findings list keeps them all).
 */
export function ReaderLegend({
  members,
  colorOf,
  hidden,
  onToggle,
}: {
  members: readonly LegendMember[];
  colorOf: ColorOf;
  hidden: ReadonlySet<string>;
  onToggle: (userId: string) => void;
}) {
  return (
    <ul className="legend" data-testid="legend" aria-label="Colours of the panel">
      {members.map((m) => {
        const off = hidden.has(m.id);
        return (
          <li
            key={m.id}
            data-testid="legend-item"
            data-user-id={m.id}
            data-color={colorOf(m.id)}
            data-hidden={off}
          >
            <button
              type="button"
              className={off ? 'off' : ''}
              aria-pressed={!off}
              data-testid="legend-toggle"
              title={off ? `Show ${m.name}'s boxes` : `Hide ${m.name}'s boxes`}
              onClick={() => onToggle(m.id)}
            >
              <span className="swatch" style={{ background: colorOf(m.id) }} />
              {m.role === 'moderator' ? '★ ' : ''}
              {m.name}
              <small> {m.boxes}</small>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
