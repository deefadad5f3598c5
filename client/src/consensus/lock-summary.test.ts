import { describe, expect, it } from 'vitest';
import { summarizeLock } from './lock-summary.js';

const box = { x_min: 1, y_min: 1, x_max: 9, y_max: 9 };
const finding = (id: string, labels: string[]) => ({
  id,
  labels,
  box,
  createdBy: 'r1',
  updatedBy: 'r1',
  updatedAt: 1,
});
const decided = (target: object, outcome: 'accepted' | 'rejected') => ({
  target,
  outcome,
  decidedBy: 'm1',
  decidedAt: 2,
});
const record = {
  sessionId: 's1',
  scanId: 'scan1',
  version: 2,
  image: { rows: 10, columns: 10 },
  lockedBy: 'm1',
  lockedAt: 1_700_000_000_000,
  findings: [
    finding('a', ['Nodule/Mass']),
    finding('b', ['Nodule/Mass', 'Calcification']),
    finding('c', ['Aortic enlargement']),
  ],
  globals: [
    { label: 'Lung tumor', proposedBy: 'r1', updatedAt: 1 },
    { label: 'Pneumonia', proposedBy: 'r2', updatedAt: 1 },
  ],
  decisions: [
    decided({ kind: 'finding', id: 'a' }, 'accepted'),
    decided({ kind: 'finding', id: 'b' }, 'accepted'),
    decided({ kind: 'finding', id: 'c' }, 'rejected'),
    decided({ kind: 'global', label: 'Lung tumor' }, 'accepted'),
    decided({ kind: 'global', label: 'Pneumonia' }, 'rejected'),
  ],
};

describe('summarizeLock (the lock record shown to the panel)', () => {
  it('counts accepted and rejected boxes, labels by frequency, accepted global labels', () => {
    expect(summarizeLock(record)).toEqual({
      version: 2,
      lockedBy: 'm1',
      lockedAt: 1_700_000_000_000,
      acceptedBoxes: 2,
      rejectedBoxes: 1,
      labels: [
        { label: 'Nodule/Mass', count: 2 },
        { label: 'Calcification', count: 1 },
      ],
      acceptedGlobals: ['Lung tumor'],
      rejectedGlobals: 1,
    });
  });

  it('gives undefined for what is not a record (missing, a string, a wrong field), never throws', () => {
    expect(summarizeLock(undefined)).toBeUndefined();
    expect(summarizeLock('{"version":1}')).toBeUndefined();
    expect(summarizeLock({ ...record, version: 'two' })).toBeUndefined();
    expect(summarizeLock({ ...record, findings: [{ id: 'x' }] })).toBeUndefined();
  });
});
