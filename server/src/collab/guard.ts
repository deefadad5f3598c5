import {
  ALL_ROOTS,
  type CloseKey,
  DOC_ROOTS,
  type ImageSize,
  SERVER_ONLY_ROOTS,
  checkFindingEntry,
  checkGlobalEntry,
  isGlobalLabel,
} from '@cxr/shared';
import * as Y from 'yjs';

/** What the sender may do in this room. Observers (admins off the panel) only read. */
export interface Writer {
  readonly userId: string;
  readonly canWrite: boolean;
}

export type GuardVerdict = { ok: true; changed: boolean } | { ok: false; close: CloseKey; detail: string };

/** A scan has at most this many findings; more is a runaway client, not a reading. */
export const MAX_FINDINGS = 1000;
/** One update may not advance a client's clock by more than this (no 2^53-long deleted items). */
export const MAX_CLOCK_ADVANCE = 1_000_000;

const GUARD_ORIGIN = Symbol('guard');

/**
 * Checks every incoming update against a warm scratch copy of the room's document before the
 * real document sees it: apply to the copy, look at what the transaction touched, check role
 * rules and the schema of every changed entry. The copy is rebuilt only after a refusal, so
 * the hot path is one extra `applyUpdate`.
 */
export class UpdateGuard {
  private scratch: Y.Doc;
  private lastTransaction: Y.Transaction | undefined;

  constructor(
    private readonly source: Y.Doc,
    private readonly image: ImageSize,
  ) {
    this.scratch = this.rebuild();
  }

  /**
   * Judges `update` from `writer`. On acceptance the scratch copy already holds the update;
   * the caller must then apply it to the source document.
   */
  check(update: Uint8Array, writer: Writer, locked: boolean): GuardVerdict {
    this.lastTransaction = undefined;
    try {
      Y.applyUpdate(this.scratch, update, GUARD_ORIGIN);
    } catch {
      return this.refuse('INVALID_UPDATE', 'update could not be decoded');
    }
    const store = this.scratch.store;
    if (store.pendingStructs !== null || store.pendingDs !== null) {
      return this.refuse('RESYNC', 'update depends on changes the server has not seen');
    }
    const tr = this.lastTransaction as Y.Transaction | undefined;
    if (tr === undefined) return { ok: true, changed: false };
    const changed = hasChanges(tr);
    if (!changed) return { ok: true, changed: false };
    if (locked) return this.refuse('LOCKED', 'the consensus is locked; no more edits');
    for (const [client, after] of tr.afterState) {
      if (after - (tr.beforeState.get(client) ?? 0) > MAX_CLOCK_ADVANCE) {
        return this.refuse('INVALID_UPDATE', 'update is implausibly long');
      }
    }
    const problem = this.checkChangedEntries(tr, writer);
    if (problem) return this.refuse(problem.close, problem.detail);
    return { ok: true, changed: true };
  }

  /** Mirrors an update that the server applied to the source document itself. */
  mirror(update: Uint8Array): void {
    Y.applyUpdate(this.scratch, update, GUARD_ORIGIN);
  }

  destroy(): void {
    this.scratch.destroy();
  }

  private checkChangedEntries(
    tr: Y.Transaction,
    writer: Writer,
  ): { close: CloseKey; detail: string } | undefined {
    const roots = rootNames(this.scratch);
    for (const [type, keys] of tr.changed) {
      const root = roots.get(type);
      if (root === undefined || !ALL_ROOTS.has(root)) {
        return { close: 'INVALID_UPDATE', detail: 'update touches a type outside the scan-document layout' };
      }
      if (SERVER_ONLY_ROOTS.has(root)) {
        return { close: 'FORBIDDEN', detail: `${root} are written by the server only` };
      }
      if (!writer.canWrite) return { close: 'FORBIDDEN', detail: 'read-only access to this scan' };
      if (!(type instanceof Y.Map)) {
        return { close: 'INVALID_UPDATE', detail: 'update touches a type outside the scan-document layout' };
      }
      const map: Y.Map<unknown> = type;
      const previous = this.source.getMap(root);
      for (const key of keys) {
        if (key === null) return { close: 'INVALID_UPDATE', detail: `${root} is a map, not a list` };
        if (!map.has(key)) continue; // a removal: any panel member may withdraw a candidate
        const ctx = { userId: writer.userId, image: this.image, previous: previous.get(key) };
        const problem =
          root === DOC_ROOTS.findings
            ? checkFindingEntry(key, map.get(key), ctx)
            : isGlobalLabel(key)
              ? checkGlobalEntry(key, map.get(key), ctx)
              : `unknown global label ${key.slice(0, 40)}`;
        if (problem) return { close: 'INVALID_UPDATE', detail: problem };
      }
      if (root === DOC_ROOTS.findings && map.size > MAX_FINDINGS) {
        return { close: 'TOO_LARGE', detail: `a scan holds at most ${MAX_FINDINGS} findings` };
      }
    }
    return undefined;
  }

  private refuse(close: CloseKey, detail: string): GuardVerdict {
    // The scratch copy may hold part of the refused update: start again from the source.
    this.scratch.destroy();
    this.scratch = this.rebuild();
    return { ok: false, close, detail };
  }

  private rebuild(): Y.Doc {
    const scratch = new Y.Doc();
    for (const root of ALL_ROOTS) scratch.getMap(root);
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.source));
    scratch.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === GUARD_ORIGIN) this.lastTransaction = tr;
    });
    return scratch;
  }
}

function hasChanges(tr: Y.Transaction): boolean {
  if (tr.changed.size > 0 || tr.deleteSet.clients.size > 0) return true;
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
