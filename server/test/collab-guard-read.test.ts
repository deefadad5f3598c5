import { GLOBAL_LABELS, LOCAL_LABELS } from '@cxr/shared';
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { type GuardVerdict, MAX_FINDINGS, UpdateGuard, type Writer } from '../src/collab/guard.js';
import { prng } from './helpers/prng.js';

const IMAGE = { rows: 3000, columns: 2800 };
const PANEL = ['alice', 'bob', 'mod'];
const ROOTS = ['findings', 'globals', 'progress', 'decisions', 'meta'];

type Rng = ReturnType<typeof prng>;

/** A finding value, valid or broken in one of the ways R-GUARD-2/3 name. */
function findingValue(rng: Rng, id: string, writer: string): unknown {
  const x = rng.int(2000);
  const y = rng.int(2000);
  const value = {
    id,
    labels: [rng.pick(LOCAL_LABELS)],
    box: { x_min: x, y_min: y, x_max: x + 1 + rng.int(500), y_max: y + 1 + rng.int(500) },
    createdBy: rng.pick(PANEL),
    updatedBy: writer,
    updatedAt: 1_700_000_000_000 + rng.int(1000),
  };
  switch (rng.int(9)) {
    case 0:
      return { ...value, box: { ...value.box, x_min: Number.NaN } };
    case 1:
      return { ...value, box: { ...value.box, x_max: IMAGE.columns + 10 } };
    case 2:
      return { ...value, labels: ['Not a label'] };
    case 3:
      return { ...value, updatedBy: 'mallory' };
    case 4:
      return { ...value, createdBy: 'mallory' };
    case 5:
      return { ...value, id: 'other' };
    default:
      return value;
  }
}

/** One random edit of the kinds clients (honest or not) send, made on `doc` by `writer`. */
function randomEdit(rng: Rng, doc: Y.Doc, writer: string): void {
  const findings = doc.getMap('findings');
  const keys = [...findings.keys()];
  switch (rng.int(12)) {
    case 0:
    case 1:
    case 2: {
      // Mostly overwrites of existing boxes: a drag.
      const id = keys.length > 0 && rng.int(3) > 0 ? rng.pick(keys) : `f${rng.int(30)}`;
      findings.set(id, findingValue(rng, id, writer));
      return;
    }
    case 3:
      if (keys.length > 0) findings.delete(rng.pick(keys));
      return;
    case 4: {
      const label = rng.int(8) === 0 ? 'Not a global label' : rng.pick(GLOBAL_LABELS);
      const proposedBy = rng.int(6) === 0 ? 'bob' : writer;
      doc.getMap('globals').set(label, { label, proposedBy, updatedAt: 1 });
      return;
    }
    case 5: {
      const globals = doc.getMap('globals');
      const present = [...globals.keys()];
      if (present.length > 0) globals.delete(rng.pick(present));
      return;
    }
    case 6: {
      const who = rng.int(4) === 0 ? 'bob' : writer;
      doc.getMap('progress').set(who, { userId: who, done: rng.int(2) === 0, updatedAt: 1 });
      return;
    }
    case 7:
      doc.getMap(rng.pick(['decisions', 'meta'])).set('x', { locked: true });
      return;
    case 8:
      // A nested type where plain values belong (R-GUARD-4).
      findings.set(`f${rng.int(30)}`, new Y.Map());
      return;
    case 9:
      doc.getMap('elsewhere').set('k', 1);
      return;
    case 10:
      doc.getArray('notes').insert(0, ['text']);
      return;
    default: {
      const progress = doc.getMap('progress');
      const present = [...progress.keys()];
      if (present.length > 0) progress.delete(rng.pick(present));
    }
  }
}

const summary = (v: GuardVerdict) => (v.ok ? `ok changed=${v.changed}` : `refused ${v.close}`);

describe('the guard reads live edits without applying them', () => {
  it('R-GUARD-10: reading an update gives the same verdict as applying it to a copy (seeded, 3,000 updates)', () => {
    const rng = prng(20261127);
    const source = new Y.Doc();
    for (const root of ROOTS) source.getMap(root);
    const guard = new UpdateGuard(source, IMAGE, PANEL);
    // Each member edits through their own replica, as a browser does.
    const replicas = new Map(PANEL.map((user) => [user, new Y.Doc()]));
    const seen = new Map<string, number>();
    const onCopy = vi.spyOn(guard, 'checkOnCopy');
    let judged = 0;
    for (let i = 0; i < 3000; i++) {
      const user = rng.pick(PANEL);
      const replica = replicas.get(user)!;
      // Usually up to date; sometimes behind, so edits replace values the server has replaced.
      if (rng.int(4) > 0) Y.applyUpdate(replica, Y.encodeStateAsUpdate(source));
      const before = Y.encodeStateVector(source);
      const updates: Uint8Array[] = [];
      const capture = (u: Uint8Array) => updates.push(u);
      replica.on('update', capture);
      for (let k = 1 + rng.int(3); k > 0; k--) replica.transact(() => randomEdit(rng, replica, user));
      replica.off('update', capture);
      if (updates.length === 0) continue;
      // One edit, several merged, a resend of the replica's whole diff, or a later edit alone
      // (its dependency missing).
      const shape = rng.int(8);
      const update =
        shape === 0
          ? Y.encodeStateAsUpdate(replica, before)
          : shape === 1 && updates.length > 1
            ? updates[updates.length - 1]!
            : Y.mergeUpdates(updates);
      const writer: Writer = { userId: user, canWrite: rng.int(15) > 0 };
      const locked = rng.int(20) === 0;

      const reference = guard.checkOnCopy(update, writer, locked);
      const verdict = guard.check(update, writer, locked);
      judged++;
      expect(summary(verdict), `update ${i}`).toBe(summary(reference));
      seen.set(summary(verdict), (seen.get(summary(verdict)) ?? 0) + 1);
      if (verdict.ok && verdict.changed) Y.applyUpdate(source, update);
      // A refused client reconnects and starts again from the server's document.
      if (!verdict.ok) replicas.set(user, new Y.Doc());
    }
    // Every kind of verdict occurred, so the comparison covered them all.
    for (const kind of [
      'ok changed=true',
      'refused INVALID_UPDATE',
      'refused FORBIDDEN',
      'refused LOCKED',
      'refused RESYNC',
    ]) {
      expect(seen.get(kind) ?? 0, `${kind} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
    // Both ways of judging were exercised (each reference check is one call of its own; here
    // about half the updates needed the copy, most of them the kinds no honest client sends).
    const copies = onCopy.mock.calls.length - judged;
    expect(copies).toBeGreaterThan(100);
    expect(judged - copies).toBeGreaterThan(1000);
  });
});

describe('the finding bound', () => {
  it('R-GUARD-5: a scan holds at most 1,000 findings; moves and swaps at the bound pass, read or on a copy', () => {
    const source = new Y.Doc();
    for (const root of ROOTS) source.getMap(root);
    const value = (id: string, x: number) => ({
      id,
      labels: [LOCAL_LABELS[0]!],
      box: { x_min: x, y_min: 10, x_max: x + 5, y_max: 20 },
      createdBy: 'alice',
      updatedBy: 'alice',
      updatedAt: 1_700_000_000_000,
    });
    const alice = new Y.Doc();
    alice.transact(() => {
      for (let i = 0; i < MAX_FINDINGS; i++) alice.getMap('findings').set(`f${i}`, value(`f${i}`, i));
    });
    Y.applyUpdate(source, Y.encodeStateAsUpdate(alice));
    const guard = new UpdateGuard(source, IMAGE, PANEL);
    const writer: Writer = { userId: 'alice', canWrite: true };
    const edit = (change: (findings: Y.Map<unknown>) => void) => {
      const before = Y.encodeStateVector(alice);
      alice.transact(() => change(alice.getMap('findings')));
      const update = Y.encodeStateAsUpdate(alice, before);
      const verdict = guard.check(update, writer, false);
      expect(summary(verdict)).toBe(summary(guard.checkOnCopy(update, writer, false)));
      return { update, verdict };
    };

    // One more: refused, and the document is untouched.
    const extra = edit((f) => f.set('f-extra', value('f-extra', 2000)));
    expect(extra.verdict).toMatchObject({ ok: false, close: 'TOO_LARGE' });
    alice.destroy();
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(source));
    expect(source.getMap('findings').size).toBe(MAX_FINDINGS);

    // Moving a box at the bound replaces a value: accepted.
    const mover = replica;
    const moveBefore = Y.encodeStateVector(mover);
    mover.getMap('findings').set('f3', value('f3', 1500));
    const move = Y.encodeStateAsUpdate(mover, moveBefore);
    expect(guard.check(move, writer, false)).toEqual({ ok: true, changed: true });
    Y.applyUpdate(source, move);

    // Withdrawing one and drawing another in one update stays at the bound: accepted.
    const swapBefore = Y.encodeStateVector(mover);
    mover.transact(() => {
      mover.getMap('findings').delete('f4');
      mover.getMap('findings').set('f-new', value('f-new', 1600));
    });
    const swap = Y.encodeStateAsUpdate(mover, swapBefore);
    expect(summary(guard.check(swap, writer, false))).toBe('ok changed=true');
    expect(summary(guard.checkOnCopy(swap, writer, false))).toBe('ok changed=true');
  });
});
