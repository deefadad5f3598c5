import {
  type EntryContext,
  checkFindingEntry,
  checkGlobalEntry,
  checkProgressEntry,
  checkReadingRules,
  readFindings,
  readGlobals,
  readProgress,
  scanDocTypes,
} from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { YAnnotationStore, globalBlocked } from './store.js';

const image = { rows: 2800, columns: 3000 };

/** Two docs wired like two clients of one room, with each update checked the way the server does. */
function pair() {
  const a = new Y.Doc();
  const b = new Y.Doc();
  const refusals: string[] = [];
  const guard = (sender: string, update: Uint8Array, target: Y.Doc) => {
    // Apply to a scratch copy of the receiver and check every touched entry as the server would.
    const scratch = new Y.Doc();
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(target));
    const before = new Map(scanDocTypes(scratch).findings.entries());
    const beforeGlobals = new Set(scanDocTypes(scratch).globals.keys());
    Y.applyUpdate(scratch, update);
    for (const [key, value] of scanDocTypes(scratch).findings.entries()) {
      if (before.get(key) === undefined || JSON.stringify(before.get(key)) !== JSON.stringify(value)) {
        const ctx: EntryContext = { userId: sender, image, panel: ['alice', 'bob'] };
        const why = checkFindingEntry(key, value, ctx);
        if (why) refusals.push(why);
      }
    }
    for (const [key, value] of scanDocTypes(scratch).globals.entries()) {
      if (!beforeGlobals.has(key)) {
        const why = checkGlobalEntry(key, value, { userId: sender, image, panel: ['alice', 'bob'] });
        if (why) refusals.push(why);
      }
    }
  };
  a.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin === 'remote') return;
    guard('alice', u, b);
    Y.applyUpdate(b, u, 'remote');
  });
  b.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin === 'remote') return;
    guard('bob', u, a);
    Y.applyUpdate(a, u, 'remote');
  });
  let t = 1000;
  const clock = () => ++t;
  return {
    a,
    b,
    refusals,
    alice: new YAnnotationStore(a, 'alice', image, clock),
    bob: new YAnnotationStore(b, 'bob', image, clock),
  };
}

const box = { x_min: 10, y_min: 20, x_max: 110, y_max: 220 };

describe('YAnnotationStore', () => {
  it('writes findings both peers see, stamped with the author', () => {
    const { alice, b } = pair();
    const added = alice.addFinding(box, ['Nodule/Mass']);
    expect(added.ok).toBe(true);
    const [f] = readFindings(b);
    expect(f?.labels).toEqual(['Nodule/Mass']);
    expect(f?.createdBy).toBe('alice');
    expect(f?.updatedBy).toBe('alice');
  });

  it('undo touches only the local user changes', () => {
    const { alice, bob, a, b } = pair();
    const r = alice.addFinding(box, ['Cardiomegaly']);
    if (!r.ok) throw new Error(r.reason);
    bob.addFinding({ ...box, x_min: 500, x_max: 600 }, ['Atelectasis']);
    expect(readFindings(a)).toHaveLength(2);
    alice.undo();
    expect(readFindings(a).map((f) => f.labels[0])).toEqual(['Atelectasis']);
    expect(readFindings(b).map((f) => f.labels[0])).toEqual(['Atelectasis']);
    alice.redo();
    expect(readFindings(b)).toHaveLength(2);
  });

  it('undoing a move of someone else box restores the geometry with my updatedBy (server accepts it)', () => {
    const { alice, bob, b, refusals } = pair();
    const r = bob.addFinding(box, ['Pleural effusion']);
    if (!r.ok) throw new Error(r.reason);
    alice.setBox(r.id, { x_min: 300, y_min: 300, x_max: 400, y_max: 400 });
    expect(readFindings(b)[0]?.box.x_min).toBe(300);
    alice.undo();
    const [f] = readFindings(b);
    expect(f?.box).toEqual(box);
    expect(f?.updatedBy).toBe('alice');
    expect(f?.createdBy).toBe('bob');
    alice.redo();
    expect(readFindings(b)[0]?.box.x_min).toBe(300);
    expect(refusals).toEqual([]);
  });

  it('undoing the delete of someone else box restores it with its author, edited by me', () => {
    const { alice, bob, b, refusals } = pair();
    const r = bob.addFinding(box, ['Emphysema']);
    if (!r.ok) throw new Error(r.reason);
    alice.remove(r.id);
    expect(readFindings(b)).toHaveLength(0);
    alice.undo();
    const [f] = readFindings(b);
    expect(f?.labels).toEqual(['Emphysema']);
    expect(f?.createdBy).toBe('bob');
    expect(f?.updatedBy).toBe('alice');
    expect(refusals).toEqual([]);
  });

  it('undoing the withdrawal of someone else global proposal proposes it as mine', () => {
    const { alice, bob, b, refusals } = pair();
    bob.toggleGlobal('COPD');
    alice.toggleGlobal('COPD');
    expect(readGlobals(b)).toHaveLength(0);
    alice.undo();
    expect(readGlobals(b)[0]?.proposedBy).toBe('alice');
    expect(refusals).toEqual([]);
  });

  it('enforces the VinDr global-label rules before writing', () => {
    const { alice, bob } = pair();
    expect(alice.toggleGlobal('No finding').ok).toBe(true);
    expect(bob.toggleGlobal('Pneumonia').ok).toBe(false);
    expect(bob.addFinding(box, ['Edema']).ok).toBe(false);
    expect(alice.toggleGlobal('No finding').ok).toBe(true);
    bob.addFinding(box, ['Edema']);
    expect(globalBlocked('No finding', alice.getSnapshot().findings, alice.getSnapshot().globals)).toMatch(
      /box/,
    );
  });

  it('refuses every edit once the scan is locked', () => {
    const { alice, a } = pair();
    const r = alice.addFinding(box, ['ILD']);
    if (!r.ok) throw new Error(r.reason);
    a.transact(() => scanDocTypes(a).meta.set('locked', true), 'server');
    expect(alice.getSnapshot().meta.locked).toBe(true);
    expect(alice.addFinding(box, ['ILD']).ok).toBe(false);
    alice.remove(r.id);
    expect(alice.getSnapshot().findings).toHaveLength(1);
  });

  it('marks done only while the VinDr rules hold; the guard accepts what the store writes', () => {
    const { alice, bob, b } = pair();
    expect(alice.setDone(true)).toEqual({
      ok: false,
      reason: 'cannot mark done: at least one global label is required',
    });
    bob.toggleGlobal('No finding');
    expect(alice.setDone(true).ok).toBe(true);
    const [mine] = readProgress(b);
    expect(mine).toMatchObject({ userId: 'alice', done: true });
    // The server's own check of the entry, with the reading as it stands.
    const reading = () => checkReadingRules(readFindings(b), readGlobals(b));
    const ctx = { userId: 'alice', image, panel: ['alice', 'bob'], reading };
    expect(checkProgressEntry('alice', mine, ctx)).toBeUndefined();
    // Ctrl+Z is about boxes and labels: it leaves the done mark alone.
    alice.undo();
    expect(alice.getSnapshot().progress[0]?.done).toBe(true);
    expect(alice.setDone(false).ok).toBe(true);
    expect(readProgress(b)[0]?.done).toBe(false);
  });
});
