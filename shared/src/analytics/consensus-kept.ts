import { GLOBAL_LABELS } from '../model/labels.js';
import type { ConsensusRecord } from '../model/consensus-record.js';
import type { GlobalLabel } from '../model/labels.js';
import type { Decision, Finding } from '../model/schemas.js';

/**
 * What a locked record keeps, with finding ids (the exports drop them): the same rule as
 * R-EXPORT-1, accepted or undecided in, rejected out, the latest decision of a target counts.
 */
export function keptByRecord(record: ConsensusRecord): { findings: Finding[]; globals: Set<GlobalLabel> } {
  const latest = new Map<string, Decision>();
  for (const d of record.decisions) {
    const key = d.target.kind === 'finding' ? `f:${d.target.id}` : `g:${d.target.label}`;
    const previous = latest.get(key);
    if (!previous || previous.decidedAt <= d.decidedAt) latest.set(key, d);
  }
  const kept = (key: string) => latest.get(key)?.outcome !== 'rejected';
  return {
    findings: record.findings.filter((f) => kept(`f:${f.id}`)),
    globals: new Set(record.globals.filter((g) => kept(`g:${g.label}`)).map((g) => g.label)),
  };
}

/**
 * Share of the image-level labels on which a reader and the consensus agree (both present or
 * both absent), over the whole taxonomy, `No finding` included.
 */
export function globalAgreement(reader: ReadonlySet<string>, consensus: ReadonlySet<string>): number {
  let same = 0;
  for (const label of GLOBAL_LABELS) if (reader.has(label) === consensus.has(label)) same++;
  return same / GLOBAL_LABELS.length;
}
