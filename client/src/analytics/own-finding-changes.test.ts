import type { Finding } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { OwnFindingChanges } from './own-finding-changes.js';

const T0 = 1_800_000_000_000;
const finding = (id: string, createdBy: string, updatedBy: string, updatedAt: number): Finding => ({
  id,
  labels: ['Nodule/Mass'],
  box: { x_min: 10, y_min: 10, x_max: 50, y_max: 50 },
  createdBy,
  updatedBy,
  updatedAt,
});

describe('OwnFindingChanges', () => {
  it('ignores what the document held before the scan was opened', () => {
    const t = new OwnFindingChanges('me', T0);
    expect(
      t.changes([finding('old', 'me', 'me', T0 - 5000), finding('theirs', 'bob', 'bob', T0 + 10)]),
    ).toEqual([]);
  });

  it("reports this reader's new findings and changes, each edit once", () => {
    const t = new OwnFindingChanges('me', T0);
    const old = finding('old', 'me', 'me', T0 - 5000);
    const theirs = finding('theirs', 'bob', 'bob', T0 - 10);
    expect(t.changes([old, theirs])).toEqual([]);
    const mine = finding('new', 'me', 'me', T0 + 100);
    expect(t.changes([old, theirs, mine])).toEqual([{ findingId: 'new', action: 'created' }]);
    expect(t.changes([old, theirs, mine])).toEqual([]);
    const moved = { ...old, updatedAt: T0 + 200 };
    const relabelled = { ...theirs, updatedBy: 'me', updatedAt: T0 + 300 };
    expect(t.changes([moved, relabelled, mine])).toEqual([
      { findingId: 'old', action: 'changed' },
      { findingId: 'theirs', action: 'changed' },
    ]);
  });

  it("does not count another reader's edit of this reader's finding", () => {
    const t = new OwnFindingChanges('me', T0);
    const mine = finding('f', 'me', 'me', T0 + 1);
    t.changes([mine]);
    expect(t.changes([{ ...mine, updatedBy: 'bob', updatedAt: T0 + 2 }])).toEqual([]);
  });
});
