import {
  type Decision,
  type DocMeta,
  EMPTY_META,
  type Finding,
  FindingSchema,
  type GlobalLabel,
  type GlobalProposal,
  GlobalProposalSchema,
  type ImageSize,
  type LocalLabel,
  NO_FINDING,
  type ReaderProgress,
  checkReadingRules,
  proposeGlobal,
  putFinding,
  readDecisions,
  readFindings,
  readGlobals,
  readMeta,
  readProgress,
  removeFinding,
  scanDocTypes,
  setReaderDone,
  withdrawGlobal,
} from '@cxr/shared';
import * as Y from 'yjs';
import type { ImageBox } from '../viewer/transform.js';

/**
 * The annotation model the Konva layer and the panels use: a Y.Doc-backed store that knows no
 * transport (whoever owns the doc syncs it). Every local write is one transaction with this
 * store's origin, which is the only origin the undo manager tracks, so undo never touches
 * what another panel member did.
 */

export interface AnnotationSnapshot {
  readonly findings: readonly Finding[];
  readonly globals: readonly GlobalProposal[];
  /** Each member's own "done" mark (members write only their own key). */
  readonly progress: readonly ReaderProgress[];
  /** The server's decisions on findings and global labels (read-only for clients). */
  readonly decisions: readonly Decision[];
  readonly meta: DocMeta;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
}

export interface AnnotationStore {
  subscribe(listener: () => void): () => void;
  getSnapshot(): AnnotationSnapshot;
  readonly userId: string;
  readonly image: ImageSize;
  /** Creates a finding and returns its id, or an explanation when the rules forbid it. */
  addFinding(
    box: ImageBox,
    labels: readonly LocalLabel[],
  ): { ok: true; id: string } | { ok: false; reason: string };
  setBox(id: string, box: ImageBox): void;
  setLabels(id: string, labels: readonly LocalLabel[]): void;
  remove(id: string): void;
  toggleGlobal(label: GlobalLabel): { ok: true } | { ok: false; reason: string };
  /**
   * Marks the scan done (or not) for this user. Done needs the VinDr rules to hold for the
   * scan's reading now, which the server checks again; undoing it is always allowed.
   */
  setDone(done: boolean): { ok: true } | { ok: false; reason: string };
  undo(): void;
  redo(): void;
}

export const EMPTY_SNAPSHOT: AnnotationSnapshot = {
  findings: [],
  globals: [],
  progress: [],
  decisions: [],
  meta: EMPTY_META,
  canUndo: false,
  canRedo: false,
};

/** Why a global label cannot be proposed right now (VinDr rules), or undefined. */
export function globalBlocked(
  label: GlobalLabel,
  findings: readonly Finding[],
  globals: readonly GlobalProposal[],
): string | undefined {
  const proposed = new Set(globals.map((g) => g.label));
  if (proposed.has(label)) return undefined; // withdrawing is always allowed
  if (label === NO_FINDING) {
    if (findings.length > 0) return '"No finding" excludes every box: remove the boxes first';
    if (proposed.size > 0) return '"No finding" excludes every other global label';
    return undefined;
  }
  if (proposed.has(NO_FINDING)) return '"No finding" is proposed: withdraw it first';
  return undefined;
}

let counter = 0;
/** Client-made finding ids: unique without coordination (user, time, random). */
export function newFindingId(userId: string, now = Date.now()): string {
  counter = (counter + 1) % 1_000_000;
  const random = Math.random().toString(36).slice(2, 8);
  return `f-${userId}-${now.toString(36)}-${counter.toString(36)}${random}`.slice(0, 128);
}

export class YAnnotationStore implements AnnotationStore {
  /** The transaction origin of this user's edits; the undo manager tracks only it. */
  readonly origin: object = { kind: 'local-user' };
  private readonly undoManager: Y.UndoManager;
  private readonly listeners = new Set<() => void>();
  private snapshot: AnnotationSnapshot;
  private readonly onUpdate = () => this.refresh();

  constructor(
    private readonly doc: Y.Doc,
    readonly userId: string,
    readonly image: ImageSize,
    private readonly now: () => number = Date.now,
  ) {
    const types = scanDocTypes(doc);
    this.undoManager = new Y.UndoManager([types.findings, types.globals], {
      trackedOrigins: new Set([this.origin]),
      captureTimeout: 300,
    });
    this.undoManager.on('stack-item-added', this.onUpdate);
    this.undoManager.on('stack-item-popped', this.onUpdate);
    doc.on('afterTransaction', this.onUpdate);
    this.snapshot = this.read();
  }

  destroy(): void {
    this.doc.off('afterTransaction', this.onUpdate);
    this.undoManager.destroy();
    this.listeners.clear();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getSnapshot(): AnnotationSnapshot {
    return this.snapshot;
  }

  private read(): AnnotationSnapshot {
    return {
      findings: readFindings(this.doc),
      globals: readGlobals(this.doc),
      progress: readProgress(this.doc),
      decisions: readDecisions(this.doc),
      meta: this.doc.share.has('meta') ? readMeta(this.doc) : EMPTY_META,
      canUndo: this.undoManager.canUndo(),
      canRedo: this.undoManager.canRedo(),
    };
  }

  private refresh(): void {
    this.snapshot = this.read();
    for (const listener of this.listeners) listener();
  }

  private get readOnly(): boolean {
    return this.snapshot.meta.locked;
  }

  private current(id: string): Finding | undefined {
    const parsed = FindingSchema.safeParse(scanDocTypes(this.doc).findings.get(id));
    return parsed.success ? parsed.data : undefined;
  }

  addFinding(
    box: ImageBox,
    labels: readonly LocalLabel[],
  ): { ok: true; id: string } | { ok: false; reason: string } {
    if (this.readOnly) return { ok: false, reason: 'the scan is locked' };
    if (labels.length === 0) return { ok: false, reason: 'a finding needs at least one label' };
    if (this.snapshot.globals.some((g) => g.label === NO_FINDING)) {
      return { ok: false, reason: '"No finding" is proposed: withdraw it before drawing boxes' };
    }
    const id = newFindingId(this.userId);
    const now = this.now();
    this.doc.transact(() => {
      putFinding(this.doc, {
        id,
        labels: [...labels],
        box: { ...box },
        createdBy: this.userId,
        updatedBy: this.userId,
        updatedAt: now,
      });
    }, this.origin);
    return { ok: true, id };
  }

  private edit(id: string, change: (f: Finding) => Finding): void {
    if (this.readOnly) return;
    const existing = this.current(id);
    if (!existing) return;
    const next = { ...change(existing), updatedBy: this.userId, updatedAt: this.now() };
    this.doc.transact(() => putFinding(this.doc, next), this.origin);
  }

  setBox(id: string, box: ImageBox): void {
    this.edit(id, (f) => ({ ...f, box: { ...box } }));
  }

  setLabels(id: string, labels: readonly LocalLabel[]): void {
    if (labels.length === 0) return;
    this.edit(id, (f) => ({ ...f, labels: [...labels] }));
  }

  remove(id: string): void {
    if (this.readOnly || !this.current(id)) return;
    this.doc.transact(() => removeFinding(this.doc, id), this.origin);
  }

  toggleGlobal(label: GlobalLabel): { ok: true } | { ok: false; reason: string } {
    if (this.readOnly) return { ok: false, reason: 'the scan is locked' };
    const { findings, globals } = this.snapshot;
    const blocked = globalBlocked(label, findings, globals);
    if (blocked) return { ok: false, reason: blocked };
    const proposed = globals.some((g) => g.label === label);
    this.doc.transact(() => {
      if (proposed) withdrawGlobal(this.doc, label);
      else proposeGlobal(this.doc, label, this.userId, this.now());
    }, this.origin);
    return { ok: true };
  }

  setDone(done: boolean): { ok: true } | { ok: false; reason: string } {
    if (this.readOnly) return { ok: false, reason: 'the scan is locked' };
    if (done) {
      const problems = checkReadingRules(this.snapshot.findings, this.snapshot.globals);
      if (problems.length > 0) return { ok: false, reason: `cannot mark done: ${problems.join('; ')}` };
    }
    // Not this store's undo origin: a "done" mark is a statement, not an edit to take back
    // with Ctrl+Z along with the boxes.
    this.doc.transact(() => setReaderDone(this.doc, this.userId, done, this.now()), 'progress');
    return { ok: true };
  }

  undo(): void {
    this.replay('undo');
  }

  redo(): void {
    this.replay('redo');
  }

  /**
   * Undo restores earlier values, which may carry another member's `updatedBy` (say I moved
   * your box and undo the move, or restore a box of yours I deleted). The server refuses writes
   * in someone else's name, so restored values are re-stamped `updatedBy` = this user inside the
   * same transaction, before any update leaves the doc; `createdBy` keeps the original author
   * (a panel member, which the server accepts) so authorship survives in the exports. The
   * `undoing`/`redoing` flag is held for the whole outer transaction so the undo manager files
   * the change on the right stack.
   */
  private replay(kind: 'undo' | 'redo'): void {
    if (this.readOnly) return;
    const types = scanDocTypes(this.doc);
    const um = this.undoManager as Y.UndoManager & { undoing: boolean; redoing: boolean };
    const flag = kind === 'undo' ? 'undoing' : 'redoing';
    const beforeFindings = new Map(types.findings.entries());
    const beforeGlobals = new Map(types.globals.entries());
    um[flag] = true;
    try {
      this.doc.transact(() => {
        if (kind === 'undo') um.undo();
        else um.redo();
        um[flag] = true;
        this.restamp(beforeFindings, beforeGlobals);
      }, um);
    } finally {
      um[flag] = false;
    }
    this.refresh();
  }

  private restamp(beforeFindings: Map<string, unknown>, beforeGlobals: Map<string, unknown>): void {
    const types = scanDocTypes(this.doc);
    const now = this.now();
    for (const [id, value] of types.findings.entries()) {
      if (beforeFindings.get(id) === value) continue;
      const parsed = FindingSchema.safeParse(value);
      if (!parsed.success) continue;
      if (parsed.data.updatedBy !== this.userId) {
        putFinding(this.doc, { ...parsed.data, updatedBy: this.userId, updatedAt: now });
      }
    }
    for (const [label, value] of types.globals.entries()) {
      if (beforeGlobals.get(label) === value) continue;
      const parsed = GlobalProposalSchema.safeParse(value);
      if (parsed.success && parsed.data.proposedBy !== this.userId) {
        proposeGlobal(this.doc, parsed.data.label, this.userId, now);
      }
    }
  }
}
