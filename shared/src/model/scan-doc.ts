import type * as Y from 'yjs';
import {
  type Decision,
  DecisionSchema,
  type DocMeta,
  DocMetaSchema,
  type Finding,
  FindingSchema,
  type GlobalProposal,
  GlobalProposalSchema,
  type ImageSize,
  type ReaderProgress,
  ReaderProgressSchema,
  boxInsideImage,
} from './schemas.js';
import type { GlobalLabel } from './labels.js';

/**
 * Layout of one scan document (one per session and scan). Any Yjs client can take part by
 * following it:
 * - `findings`: Y.Map finding id -> Finding (one plain value, replaced whole on every edit,
 *   so two people dragging one box never tear it);
 * - `globals`: Y.Map global label -> GlobalProposal (present = proposed);
 * - `progress`: Y.Map user id -> ReaderProgress (each member writes only their own key);
 * - `decisions`: Y.Map decision key -> Decision (server only);
 * - `tallies`: Y.Map global label -> GlobalTally, per-reader votes from the blind stage (server only);
 * - `meta`: Y.Map of DocMeta fields (server only).
 */
export const DOC_ROOTS = {
  findings: 'findings',
  globals: 'globals',
  progress: 'progress',
  decisions: 'decisions',
  tallies: 'tallies',
  meta: 'meta',
} as const;
export type DocRoot = (typeof DOC_ROOTS)[keyof typeof DOC_ROOTS];

/** Roots that panel members may write; the rest belong to the server. */
export const CLIENT_WRITABLE_ROOTS: ReadonlySet<string> = new Set([
  DOC_ROOTS.findings,
  DOC_ROOTS.globals,
  DOC_ROOTS.progress,
]);
export const SERVER_ONLY_ROOTS: ReadonlySet<string> = new Set([
  DOC_ROOTS.decisions,
  DOC_ROOTS.tallies,
  DOC_ROOTS.meta,
]);
export const ALL_ROOTS: ReadonlySet<string> = new Set(Object.values(DOC_ROOTS));

/** Typed handles on a scan document's root types. Values are validated when read. */
export interface ScanDocTypes {
  readonly findings: Y.Map<unknown>;
  readonly globals: Y.Map<unknown>;
  readonly progress: Y.Map<unknown>;
  readonly decisions: Y.Map<unknown>;
  readonly meta: Y.Map<unknown>;
}

export function scanDocTypes(doc: Y.Doc): ScanDocTypes {
  return {
    findings: doc.getMap(DOC_ROOTS.findings),
    globals: doc.getMap(DOC_ROOTS.globals),
    progress: doc.getMap(DOC_ROOTS.progress),
    decisions: doc.getMap(DOC_ROOTS.decisions),
    meta: doc.getMap(DOC_ROOTS.meta),
  };
}

export function decisionKey(target: Decision['target']): string {
  return target.kind === 'finding' ? `finding:${target.id}` : `global:${target.label}`;
}

/** Reads every finding that satisfies the schema, sorted by id. */
export function readFindings(doc: Y.Doc): Finding[] {
  return parsedValues(scanDocTypes(doc).findings, FindingSchema).sort(byKey((f) => f.id));
}

export function readGlobals(doc: Y.Doc): GlobalProposal[] {
  return parsedValues(scanDocTypes(doc).globals, GlobalProposalSchema).sort(byKey((g) => g.label));
}

export function readDecisions(doc: Y.Doc): Decision[] {
  return parsedValues(scanDocTypes(doc).decisions, DecisionSchema).sort(byKey((d) => decisionKey(d.target)));
}

export const EMPTY_META: DocMeta = {
  locked: false,
  lockedAt: null,
  lockedBy: null,
  consensusHash: null,
  consensusVersion: 0,
};

export function readMeta(doc: Y.Doc): DocMeta {
  const meta = scanDocTypes(doc).meta;
  const parsed = DocMetaSchema.safeParse({ ...EMPTY_META, ...Object.fromEntries(meta.entries()) });
  return parsed.success ? parsed.data : EMPTY_META;
}

/** Client-side writers: each replaces one whole value in one transaction. */
export function putFinding(doc: Y.Doc, finding: Finding): void {
  scanDocTypes(doc).findings.set(finding.id, {
    ...finding,
    box: { ...finding.box },
    labels: [...finding.labels],
  });
}

export function removeFinding(doc: Y.Doc, id: string): void {
  scanDocTypes(doc).findings.delete(id);
}

export function proposeGlobal(doc: Y.Doc, label: GlobalLabel, userId: string, now = Date.now()): void {
  const proposal: GlobalProposal = { label, proposedBy: userId, updatedAt: now };
  scanDocTypes(doc).globals.set(label, proposal);
}

export function withdrawGlobal(doc: Y.Doc, label: GlobalLabel): void {
  scanDocTypes(doc).globals.delete(label);
}

/** A panel member marks the scan done (or not done) for themselves. */
export function setReaderDone(doc: Y.Doc, userId: string, done: boolean, now = Date.now()): void {
  const progress: ReaderProgress = { userId, done, updatedAt: now };
  scanDocTypes(doc).progress.set(userId, progress);
}

export function readProgress(doc: Y.Doc): ReaderProgress[] {
  return parsedValues(scanDocTypes(doc).progress, ReaderProgressSchema).sort(byKey((p) => p.userId));
}

/**
 * A member's own progress entry; marking done requires the scan's reading to satisfy the
 * VinDr-CXR rules at that moment.
 */
export function checkProgressEntry(
  key: string,
  value: unknown,
  ctx: EntryContext & { readonly reading: () => string[] },
): string | undefined {
  const parsed = ReaderProgressSchema.safeParse(value);
  if (!parsed.success) return `progress ${clip(key)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  if (key !== ctx.userId || parsed.data.userId !== ctx.userId)
    return 'progress: members mark only themselves';
  if (parsed.data.done) {
    const problems = ctx.reading();
    if (problems.length > 0) return `cannot mark done: ${problems[0]}`;
  }
  return undefined;
}

/** Why an entry written by a panel member is refused; `undefined` means acceptable. */
export interface EntryContext {
  readonly userId: string;
  readonly image: ImageSize;
  /**
   * Who may be named as a finding's author: the session's panel. Exact provenance cannot be
   * checked under concurrency (the value a writer replaced may already be collected), but no
   * one can attribute a box to someone outside the panel.
   */
  readonly panel: readonly string[];
}

export function checkFindingEntry(key: string, value: unknown, ctx: EntryContext): string | undefined {
  const parsed = FindingSchema.safeParse(value);
  if (!parsed.success) return `finding ${clip(key)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  const finding = parsed.data;
  if (finding.id !== key) return `finding ${clip(key)}: id differs from its key`;
  if (!boxInsideImage(finding.box, ctx.image)) return `finding ${clip(key)}: box outside the image`;
  if (finding.updatedBy !== ctx.userId) return `finding ${clip(key)}: updatedBy must be the sender`;
  if (finding.createdBy !== ctx.userId && !ctx.panel.includes(finding.createdBy)) {
    return `finding ${clip(key)}: createdBy must be a member of the panel`;
  }
  return undefined;
}

export function checkGlobalEntry(key: string, value: unknown, ctx: EntryContext): string | undefined {
  const parsed = GlobalProposalSchema.safeParse(value);
  if (!parsed.success) return `global ${clip(key)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  if (parsed.data.label !== key) return `global ${clip(key)}: label differs from its key`;
  if (parsed.data.proposedBy !== ctx.userId) return `global ${clip(key)}: proposedBy must be the sender`;
  return undefined;
}

/** The VinDr-CXR reading rules; returns the violations (empty = a valid reading). */
export function checkReadingRules(
  findings: readonly Finding[],
  globals: readonly GlobalProposal[],
): string[] {
  const problems: string[] = [];
  const labels = new Set(globals.map((g) => g.label));
  if (labels.size === 0) problems.push('at least one global label is required');
  if (labels.has('No finding')) {
    if (labels.size > 1) problems.push('"No finding" excludes every other global label');
    if (findings.length > 0) problems.push('"No finding" excludes every box');
  }
  return problems;
}

function parsedValues<T>(
  map: Y.Map<unknown>,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
): T[] {
  const out: T[] = [];
  for (const value of map.values()) {
    const parsed = schema.safeParse(value);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

function byKey<T>(key: (t: T) => string) {
  return (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
