import {
  ALL_ROOTS,
  type CloseKey,
  DOC_ROOTS,
  type EntryContext,
  type ImageSize,
  SERVER_ONLY_ROOTS,
  checkFindingEntry,
  checkGlobalEntry,
  checkProgressEntry,
  checkReadingRules,
  readFindings,
  readGlobals,
  isGlobalLabel,
} from '@cxr/shared';
import * as Y from 'yjs';
import { readUpdateEffect, type UpdateEffect } from './decoded-update.js';

/** What the sender may do in this room. Observers (admins off the panel) only read. */
export interface Writer {
  readonly userId: string;
  readonly canWrite: boolean;
}

export type GuardVerdict = { ok: true; changed: boolean } | { ok: false; close: CloseKey; detail: string };

type Problem = { close: CloseKey; detail: string };

/** A scan holds at most this many findings; more is a runaway client, not a reading. */
export const MAX_FINDINGS = 1000;
/** One update may not advance a client's clock by more than this (no 2^53-long deleted items). */
export const MAX_CLOCK_ADVANCE = 1_000_000;

const GUARD_ORIGIN = Symbol('guard');

/**
 * Checks every incoming update before the room's document sees it: every struct it inserts and
 * every item it deletes is judged (its root, its key, its value, its author). Values are judged
 * one by one as written, not by the map's resulting value, because a concurrent write may win
 * the key without being wrong.
 *
 * The plain updates of live editing are read without being applied (decoded-update.ts).
 * Anything else (progress marks, which need the resulting reading; updates with missing
 * dependencies; shapes outside the layout) is applied to a fresh copy of the document and
 * judged inside that transaction, where Yjs has resolved everything.
 */
export class UpdateGuard {
  private writer: Writer = { userId: '', canWrite: false };
  private locked = false;
  private verdict: GuardVerdict | undefined;

  constructor(
    private readonly source: Y.Doc,
    private readonly image: ImageSize,
    private readonly panel: readonly string[],
  ) {}

  /** Judges `update` from `writer`; on acceptance the caller applies it to the source document. */
  check(update: Uint8Array, writer: Writer, locked: boolean): GuardVerdict {
    this.writer = writer;
    this.locked = locked;
    let effect: UpdateEffect | undefined;
    try {
      effect = readUpdateEffect(update, this.source);
    } catch {
      effect = undefined; // the copy gives the verdict on what cannot be read
    }
    return (effect && this.judge(effect)) ?? this.checkOnCopy(update, writer, locked);
  }

  /** The verdict on a plain update, or undefined when only the copy can tell. */
  private judge(effect: UpdateEffect): GuardVerdict | undefined {
    if (!effect.changed) return { ok: true, changed: false };
    if (this.locked) return { ok: false, close: 'LOCKED', detail: 'the consensus is locked; no more edits' };
    for (const advance of effect.advances.values()) {
      if (advance > MAX_CLOCK_ADVANCE)
        return { ok: false, close: 'INVALID_UPDATE', detail: 'update is implausibly long' };
    }
    for (const entry of effect.written) {
      const problem = this.rootProblem(entry.root);
      if (problem) return { ok: false, ...problem };
      if (entry.root === DOC_ROOTS.progress) return undefined;
      if (entry.deleted) continue;
      const detail = this.entryProblem(entry.root, entry.key, entry.value, undefined);
      if (detail) return { ok: false, close: 'INVALID_UPDATE', detail };
    }
    for (const { root } of effect.deleted) {
      const problem = this.rootProblem(root);
      if (problem) return { ok: false, ...problem };
      if (root === DOC_ROOTS.progress) return undefined;
    }
    // Only an update that adds findings can cross the bound, and counting walks the whole map
    // (Y.Map#size), which every move of a box paid for nothing (1% of a busy event loop).
    // Over it, the copy judges: deletes in the same update may make room.
    const added = effect.newFindingKeys.size;
    if (added > 0 && this.source.getMap(DOC_ROOTS.findings).size + added > MAX_FINDINGS) return undefined;
    return { ok: true, changed: true };
  }

  /**
   * The reference judgement: applies the update to a fresh copy of the document and judges it
   * inside that transaction. `check` falls back to it; tests compare the two.
   */
  checkOnCopy(update: Uint8Array, writer: Writer, locked: boolean): GuardVerdict {
    this.writer = writer;
    this.locked = locked;
    const scratch = this.copyOfSource();
    this.verdict = undefined;
    try {
      // Another node's update may be waiting in the document for its own dependencies; only
      // pending state that this update creates is this update's fault.
      const hadPending = scratch.store.pendingStructs !== null || scratch.store.pendingDs !== null;
      try {
        Y.applyUpdate(scratch, update, GUARD_ORIGIN);
      } catch {
        return { ok: false, close: 'INVALID_UPDATE', detail: 'update could not be decoded' };
      }
      const verdict = this.verdict as GuardVerdict | undefined;
      if (verdict && !verdict.ok) return verdict;
      const store = scratch.store;
      if (!hadPending && (store.pendingStructs !== null || store.pendingDs !== null)) {
        return { ok: false, close: 'RESYNC', detail: 'update depends on changes the server has not seen' };
      }
      return verdict ?? { ok: true, changed: false };
    } finally {
      scratch.destroy();
    }
  }

  private inspect(scratch: Y.Doc, tr: Y.Transaction): GuardVerdict {
    if (!hasChanges(tr)) return { ok: true, changed: false };
    if (this.locked) return { ok: false, close: 'LOCKED', detail: 'the consensus is locked; no more edits' };
    const roots = rootNames(scratch);
    const problem =
      this.inspectInserted(scratch, tr, roots) ?? this.inspectDeleted(tr, roots) ?? this.inspectSize(scratch);
    return problem ? { ok: false, ...problem } : { ok: true, changed: true };
  }

  private inspectInserted(
    scratch: Y.Doc,
    tr: Y.Transaction,
    roots: Map<object, string>,
  ): Problem | undefined {
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0;
      if (after === before) continue;
      if (after - before > MAX_CLOCK_ADVANCE)
        return { close: 'INVALID_UPDATE', detail: 'update is implausibly long' };
      const structs = scratch.store.clients.get(client) ?? [];
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const struct = structs[i]!;
        if (struct.id.clock >= after) break;
        if (!(struct instanceof Y.Item)) continue; // GC: content already gone, nothing to judge
        const problem = this.inspectItem(scratch, struct, roots);
        if (problem) return problem;
      }
    }
    return undefined;
  }

  private inspectItem(scratch: Y.Doc, item: Y.Item, roots: Map<object, string>): Problem | undefined {
    const root = roots.get(item.parent as object);
    const where = this.rootProblem(root);
    if (where) return where;
    if (item.parentSub === null) return { close: 'INVALID_UPDATE', detail: `${root} is a map, not a list` };
    if (item.content instanceof Y.ContentDeleted) return undefined;
    if (!(item.content instanceof Y.ContentAny) || item.content.getLength() !== 1) {
      return { close: 'INVALID_UPDATE', detail: `${root} values must be plain JSON values` };
    }
    const detail = this.entryProblem(root!, item.parentSub, item.content.getContent()[0], scratch);
    return detail ? { close: 'INVALID_UPDATE', detail } : undefined;
  }

  /**
   * What is wrong with one written value, if anything. A progress mark is judged against the
   * reading it completes, so it needs the document with the update applied (`applied`).
   */
  private entryProblem(
    root: string,
    key: string,
    value: unknown,
    applied: Y.Doc | undefined,
  ): string | undefined {
    const ctx: EntryContext = { userId: this.writer.userId, image: this.image, panel: this.panel };
    if (root === DOC_ROOTS.findings) return checkFindingEntry(key, value, ctx);
    if (root === DOC_ROOTS.progress) {
      return checkProgressEntry(key, value, {
        ...ctx,
        reading: () => {
          if (!applied) throw new Error('a progress mark is judged on the applied copy');
          return checkReadingRules(readFindings(applied), readGlobals(applied));
        },
      });
    }
    return isGlobalLabel(key)
      ? checkGlobalEntry(key, value, ctx)
      : `unknown global label ${key.slice(0, 40)}`;
  }

  /** Deleting is withdrawing a candidate: allowed to writers in client roots only. */
  private inspectDeleted(tr: Y.Transaction, roots: Map<object, string>): Problem | undefined {
    let problem: Problem | undefined;
    Y.iterateDeletedStructs(tr, tr.deleteSet, (struct) => {
      if (problem || !(struct instanceof Y.Item)) return;
      const root = roots.get(struct.parent as object);
      problem = this.rootProblem(root);
      if (!problem && root === DOC_ROOTS.progress && struct.parentSub !== this.writer.userId) {
        problem = { close: 'FORBIDDEN', detail: 'members change only their own progress' };
      }
    });
    return problem;
  }

  private rootProblem(root: string | undefined): Problem | undefined {
    if (root === undefined || !ALL_ROOTS.has(root)) {
      return { close: 'INVALID_UPDATE', detail: 'update touches a type outside the scan-document layout' };
    }
    if (SERVER_ONLY_ROOTS.has(root))
      return { close: 'FORBIDDEN', detail: `${root} are written by the server only` };
    if (!this.writer.canWrite) return { close: 'FORBIDDEN', detail: 'read-only access to this scan' };
    return undefined;
  }

  private inspectSize(scratch: Y.Doc): Problem | undefined {
    if (scratch.getMap(DOC_ROOTS.findings).size > MAX_FINDINGS) {
      return { close: 'TOO_LARGE', detail: `a scan holds at most ${MAX_FINDINGS} findings` };
    }
    return undefined;
  }

  private copyOfSource(): Y.Doc {
    const scratch = new Y.Doc();
    for (const root of ALL_ROOTS) scratch.getMap(root);
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.source));
    // Judged inside the transaction, before garbage collection drops deleted content.
    scratch.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === GUARD_ORIGIN) this.verdict = this.inspect(scratch, tr);
    });
    return scratch;
  }
}

function hasChanges(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, after] of tr.afterState) {
    if ((tr.beforeState.get(client) ?? 0) !== after) return true;
  }
  return false;
}

function rootNames(doc: Y.Doc): Map<object, string> {
  const names = new Map<object, string>();
  for (const [name, type] of doc.share) names.set(type, name);
  return names;
}
