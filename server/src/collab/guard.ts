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
 * Checks every incoming update against a warm scratch copy of the room's document before the
 * real document sees it. The update is applied to the copy; inside that transaction every
 * struct it inserted and every item it deleted is inspected (its root, its key, its value,
 * its author). Values are judged one by one as written, not by the map's resulting value,
 * because a concurrent write may win the key without being wrong. The copy is rebuilt only
 * after a refusal, so the hot path is one extra `applyUpdate`.
 */
export class UpdateGuard {
  private scratch: Y.Doc;
  private writer: Writer = { userId: '', canWrite: false };
  private locked = false;
  private verdict: GuardVerdict | undefined;

  constructor(
    private readonly source: Y.Doc,
    private readonly image: ImageSize,
    private readonly panel: readonly string[],
  ) {
    this.scratch = this.rebuild();
  }

  /**
   * Judges `update` from `writer`. On acceptance the scratch copy already holds the update;
   * the caller must then apply it to the source document.
   */
  check(update: Uint8Array, writer: Writer, locked: boolean): GuardVerdict {
    this.writer = writer;
    this.locked = locked;
    this.verdict = undefined;
    // Another node's update may be waiting here for its own dependencies; only pending state
    // that this update creates is this update's fault.
    const hadPending = this.scratch.store.pendingStructs !== null || this.scratch.store.pendingDs !== null;
    try {
      Y.applyUpdate(this.scratch, update, GUARD_ORIGIN);
    } catch {
      return this.refuse({ close: 'INVALID_UPDATE', detail: 'update could not be decoded' });
    }
    const verdict = this.verdict as GuardVerdict | undefined;
    if (verdict && !verdict.ok) return this.refuse(verdict);
    const store = this.scratch.store;
    if (!hadPending && (store.pendingStructs !== null || store.pendingDs !== null)) {
      return this.refuse({ close: 'RESYNC', detail: 'update depends on changes the server has not seen' });
    }
    return verdict ?? { ok: true, changed: false };
  }

  /** Mirrors an update that the server applied to the source document itself. */
  mirror(update: Uint8Array): void {
    Y.applyUpdate(this.scratch, update);
  }

  destroy(): void {
    this.scratch.destroy();
  }

  private inspect(tr: Y.Transaction): GuardVerdict {
    if (!hasChanges(tr)) return { ok: true, changed: false };
    if (this.locked) return { ok: false, close: 'LOCKED', detail: 'the consensus is locked; no more edits' };
    const roots = rootNames(this.scratch);
    const problem = this.inspectInserted(tr, roots) ?? this.inspectDeleted(tr, roots) ?? this.inspectSize();
    return problem ? { ok: false, ...problem } : { ok: true, changed: true };
  }

  private inspectInserted(tr: Y.Transaction, roots: Map<object, string>): Problem | undefined {
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0;
      if (after === before) continue;
      if (after - before > MAX_CLOCK_ADVANCE)
        return { close: 'INVALID_UPDATE', detail: 'update is implausibly long' };
      const structs = this.scratch.store.clients.get(client) ?? [];
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const struct = structs[i]!;
        if (struct.id.clock >= after) break;
        if (!(struct instanceof Y.Item)) continue; // GC: content already gone, nothing to judge
        const problem = this.inspectItem(struct, roots);
        if (problem) return problem;
      }
    }
    return undefined;
  }

  private inspectItem(item: Y.Item, roots: Map<object, string>): Problem | undefined {
    const root = roots.get(item.parent as object);
    const where = this.rootProblem(root);
    if (where) return where;
    if (item.parentSub === null) return { close: 'INVALID_UPDATE', detail: `${root} is a map, not a list` };
    if (item.content instanceof Y.ContentDeleted) return undefined;
    if (!(item.content instanceof Y.ContentAny) || item.content.getLength() !== 1) {
      return { close: 'INVALID_UPDATE', detail: `${root} values must be plain JSON values` };
    }
    const key = item.parentSub;
    const value: unknown = item.content.getContent()[0];
    const ctx: EntryContext = { userId: this.writer.userId, image: this.image, panel: this.panel };
    const detail =
      root === DOC_ROOTS.findings
        ? checkFindingEntry(key, value, ctx)
        : root === DOC_ROOTS.progress
          ? checkProgressEntry(key, value, {
              ...ctx,
              reading: () => checkReadingRules(readFindings(this.scratch), readGlobals(this.scratch)),
            })
          : isGlobalLabel(key)
            ? checkGlobalEntry(key, value, ctx)
            : `unknown global label ${key.slice(0, 40)}`;
    return detail ? { close: 'INVALID_UPDATE', detail } : undefined;
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

  private inspectSize(): Problem | undefined {
    if (this.scratch.getMap(DOC_ROOTS.findings).size > MAX_FINDINGS) {
      return { close: 'TOO_LARGE', detail: `a scan holds at most ${MAX_FINDINGS} findings` };
    }
    return undefined;
  }

  private refuse(problem: Problem): GuardVerdict {
    // The scratch copy may hold part of the refused update: start again from the source.
    this.scratch.destroy();
    this.scratch = this.rebuild();
    return { ok: false, ...problem };
  }

  private rebuild(): Y.Doc {
    const scratch = new Y.Doc();
    for (const root of ALL_ROOTS) scratch.getMap(root);
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.source));
    // Judged inside the transaction, before garbage collection drops deleted content.
    scratch.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === GUARD_ORIGIN) this.verdict = this.inspect(tr);
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
