/**
 * Where each box's label chip goes on screen: above the box's top-left corner when there is
 * room, otherwise inside its top edge, otherwise below it; a chip that would cover one already
 * placed moves up or down in steps of its own height until it is clear. Boxes are taken in
 * the order given (the caller puts the selected one first, so it keeps the best spot).
 */
export interface ChipRequest {
  readonly id: string;
  /** The box on screen. */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly width: number;
  readonly height: number;
}

export interface ChipPlacement {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const GAP = 2;
const MAX_STEPS = 12;

function overlaps(a: ChipPlacement, b: ChipPlacement): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

export function placeChips(
  requests: readonly ChipRequest[],
  screen: { readonly width: number; readonly height: number },
): ChipPlacement[] {
  const placed: ChipPlacement[] = [];
  for (const r of requests) {
    const x = Math.min(Math.max(0, r.box.x), Math.max(0, screen.width - r.width));
    const above = r.box.y - r.height - GAP;
    const inside = r.box.y + GAP;
    const below = r.box.y + r.box.height + GAP;
    const fits = (y: number) => y >= 0 && y + r.height <= screen.height;
    const starts = [above, inside, below].filter(fits);
    const candidates: number[] = [];
    for (const start of starts.length > 0
      ? starts
      : [Math.max(0, Math.min(above, screen.height - r.height))]) {
      candidates.push(start);
      for (let step = 1; step <= MAX_STEPS; step++) {
        const upward = start - step * (r.height + GAP);
        const downward = start + step * (r.height + GAP);
        if (fits(upward)) candidates.push(upward);
        if (fits(downward)) candidates.push(downward);
      }
    }
    const clear = candidates
      .map((y) => ({ id: r.id, x, y, width: r.width, height: r.height }))
      .find((c) => placed.every((p) => !overlaps(c, p)));
    // Nowhere clear (dozens of chips in one spot): the first choice, drawn over the others.
    placed.push(clear ?? { id: r.id, x, y: candidates[0] ?? 0, width: r.width, height: r.height });
  }
  return placed;
}

/** Any two chips on top of each other (what the e2e spec checks on the real layout). */
export function chipsOverlap(chips: readonly ChipPlacement[]): boolean {
  return chips.some((a, i) => chips.slice(i + 1).some((b) => overlaps(a, b)));
}
