/** What a box stands for in the consensus: decided either way, under vote, or not yet. */
export type BoxStatus = 'accepted' | 'rejected' | 'voting' | 'undecided';

export interface BoxStyle {
  readonly strokeWidth: number;
  readonly dash: number[] | undefined;
  readonly opacity: number;
  /** A white halo marks the box the panel is voting on. */
  readonly halo: boolean;
  /** Shown in the chip after the labels. */
  readonly mark: string;
  readonly strike: boolean;
}

/**
 * Accepted boxes are solid, undecided ones dashed, rejected ones faint, dotted and struck
 * through, and the one under vote has a halo: the four can be told apart at a glance and
 * without relying on colour (the colour says who drew it).
 */
export function boxStyle(status: BoxStatus, selected: boolean): BoxStyle {
  const bold = selected ? 1 : 0;
  switch (status) {
    case 'accepted':
      return { strokeWidth: 2.2 + bold, dash: undefined, opacity: 1, halo: false, mark: '✓', strike: false };
    case 'rejected':
      return { strokeWidth: 1.4 + bold, dash: [2, 4], opacity: 0.45, halo: false, mark: '✕', strike: true };
    case 'voting':
      return { strokeWidth: 2.6 + bold, dash: [6, 3], opacity: 1, halo: true, mark: 'vote', strike: false };
    case 'undecided':
      return { strokeWidth: 1.6 + bold, dash: [6, 3], opacity: 1, halo: false, mark: '', strike: false };
    default: {
      const never: never = status;
      throw new Error(`unknown box status ${String(never)}`);
    }
  }
}
