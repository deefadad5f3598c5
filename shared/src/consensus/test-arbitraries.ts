import fc from 'fast-check';
import type { Box } from '../model/schemas.js';

/**
 * Boxes on a 1000 x 1000 image with integer corners: integers keep the generated cases easy to
 * read in a shrunk counterexample, and the maths under test does not depend on it.
 */
export const boxArb: fc.Arbitrary<Box> = fc
  .record({
    x: fc.integer({ min: 0, max: 900 }),
    y: fc.integer({ min: 0, max: 900 }),
    w: fc.integer({ min: 1, max: 300 }),
    h: fc.integer({ min: 1, max: 300 }),
  })
  .map(({ x, y, w, h }) => ({ x_min: x, y_min: y, x_max: x + w, y_max: y + h }));

/** A few labels only, so that generated readers often draw the same finding. */
export const labelArb = fc.constantFrom('Nodule/Mass', 'Cardiomegaly', 'Pleural effusion' as const);

/** Boxes that jitter around a few shared "true" findings, so clusters actually form. */
export const jitteredBoxArb: fc.Arbitrary<Box> = fc
  .record({
    anchor: fc.constantFrom(
      { x_min: 100, y_min: 100, x_max: 300, y_max: 300 },
      { x_min: 500, y_min: 500, x_max: 800, y_max: 900 },
      { x_min: 250, y_min: 200, x_max: 450, y_max: 400 },
    ),
    d: fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 4, maxLength: 4 }),
  })
  .map(({ anchor, d }) => ({
    x_min: anchor.x_min + d[0]!,
    y_min: anchor.y_min + d[1]!,
    x_max: anchor.x_max + d[2]!,
    y_max: anchor.y_max + d[3]!,
  }));
