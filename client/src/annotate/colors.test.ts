import { describe, expect, it } from 'vitest';
import { OTHER_COLOR, PALETTE, panelOrder, sessionColors } from './colors.js';

describe('session colours (docs/UI.md "Colours and legend")', () => {
  it('gives six panel members six different colours, in panel order', () => {
    const session = {
      moderatorId: 'mod',
      readerIds: ['r1', 'r2', 'r3', 'r4', 'r5'],
      members: [{ id: 'r3' }, { id: 'mod' }, { id: 'r1' }, { id: 'r2' }, { id: 'r4' }, { id: 'r5' }],
    };
    const order = panelOrder(session);
    expect(order).toEqual(['mod', 'r1', 'r2', 'r3', 'r4', 'r5']);
    const colorOf = sessionColors(order);
    const colors = order.map(colorOf);
    expect(new Set(colors).size).toBe(6);
    expect(colors).toEqual(PALETTE.slice(0, 6));
  });

  it('is the same on every client and grey for someone not on the session', () => {
    const a = sessionColors(['m', 'x', 'y']);
    const b = sessionColors(['m', 'x', 'y']);
    expect(['m', 'x', 'y'].map(a)).toEqual(['m', 'x', 'y'].map(b));
    expect(a('fusion')).toBe(OTHER_COLOR);
  });

  it('ids that hash to one colour still get different ones (the old hash put these together)', () => {
    // Any 8 distinct ids: the assignment is by position, not by the id's text.
    const ids = Array.from({ length: 8 }, (_, i) => `user-${i * 97}`);
    expect(new Set(ids.map(sessionColors(ids))).size).toBe(8);
  });
});
