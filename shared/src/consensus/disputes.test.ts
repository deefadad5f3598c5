import { describe, expect, it } from 'vitest';
import type { Box } from '../model/schemas.js';
import { findDisputes } from './disputes.js';
import { weightedBoxesFusion } from './wbf.js';

const b = (x_min: number, y_min: number, x_max: number, y_max: number): Box => ({
  x_min,
  y_min,
  x_max,
  y_max,
});

describe('findDisputes', () => {
  const proposals = weightedBoxesFusion([
    {
      readerId: 'R1',
      boxes: [
        { label: 'Nodule/Mass', box: b(100, 100, 300, 300) },
        { label: 'Cardiomegaly', box: b(500, 500, 800, 900) },
      ],
    },
    {
      readerId: 'R2',
      boxes: [
        { label: 'Nodule/Mass', box: b(120, 110, 310, 290) },
        { label: 'Cardiomegaly', box: b(520, 480, 790, 880) },
      ],
    },
    {
      readerId: 'R3',
      boxes: [
        { label: 'Calcification', box: b(110, 90, 280, 320) },
        { label: 'Nodule/Mass', box: b(700, 100, 900, 200) },
      ],
    },
  ]);

  it('lists proposals below a strict majority and overlapping label conflicts', () => {
    const labels = proposals.map((p) => `${p.label} ${p.sources.length}`);
    expect(labels).toEqual(['Cardiomegaly 2', 'Nodule/Mass 2', 'Calcification 1', 'Nodule/Mass 1']);
    const disputes = findDisputes(proposals);
    expect(disputes.map((d) => d.kind)).toEqual(['below-quorum', 'below-quorum', 'label-conflict']);
    expect(disputes[0]).toEqual({ kind: 'below-quorum', proposal: 2, share: 1 / 3 });
    expect(disputes[1]).toEqual({ kind: 'below-quorum', proposal: 3, share: 1 / 3 });
    expect(disputes[2]).toMatchObject({ kind: 'label-conflict', proposals: [1, 2] });
  });

  it('treats a 1-of-2 tie as below quorum by default and honours an explicit minShare', () => {
    const tie = weightedBoxesFusion([
      { readerId: 'a', boxes: [{ label: 'ILD', box: b(0, 0, 10, 10) }] },
      { readerId: 'b', boxes: [] },
    ]);
    expect(findDisputes(tie)).toEqual([{ kind: 'below-quorum', proposal: 0, share: 0.5 }]);
    expect(findDisputes(tie, { minShare: 0.5 })).toEqual([]);
    expect(findDisputes(proposals, { minShare: 2 / 3, iouThreshold: 0.99 })).toHaveLength(2);
  });
});
