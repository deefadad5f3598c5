import { describe, expect, it } from 'vitest';
import { boxStyle } from './box-style.js';
import { chipsOverlap, placeChips } from './label-layout.js';

const screen = { width: 1000, height: 800 };
const chip = (id: string, x: number, y: number, w = 100, h = 200) => ({
  id,
  box: { x, y, width: w, height: h },
  width: 160,
  height: 18,
});

describe('box label chips (docs/UI.md "Boxes on the image")', () => {
  it('puts a lone chip above its box', () => {
    const [c] = placeChips([chip('a', 100, 100)], screen);
    expect(c).toMatchObject({ x: 100, y: 100 - 18 - 2 });
  });

  it('moves the chip inside the box when there is no room above, and keeps it on screen', () => {
    const [c] = placeChips([chip('a', 950, 0)], screen);
    expect(c?.y).toBe(2);
    expect((c?.x ?? 0) + 160).toBeLessThanOrEqual(screen.width);
  });

  it('never prints the chips of overlapping boxes over each other', () => {
    const boxes = Array.from({ length: 6 }, (_, i) => chip(`b${i}`, 300 + i * 10, 300 + i * 5));
    const placed = placeChips(boxes, screen);
    expect(placed).toHaveLength(6);
    expect(chipsOverlap(placed)).toBe(false);
    for (const p of placed) expect(p.y).toBeGreaterThanOrEqual(0);
  });

  it('detects overlap when there is some', () => {
    expect(
      chipsOverlap([
        { id: 'a', x: 0, y: 0, width: 10, height: 10 },
        { id: 'b', x: 5, y: 5, width: 10, height: 10 },
      ]),
    ).toBe(true);
  });
});

describe('box status styles', () => {
  it('tells accepted, rejected, under vote and undecided apart without colour', () => {
    const styles = (['accepted', 'rejected', 'voting', 'undecided'] as const).map((s) => boxStyle(s, false));
    const keys = styles.map((s) => JSON.stringify([s.dash, s.opacity, s.halo, s.mark, s.strike]));
    expect(new Set(keys).size).toBe(4);
    expect(boxStyle('rejected', false).opacity).toBeLessThan(1);
    expect(boxStyle('voting', false).halo).toBe(true);
  });
});
