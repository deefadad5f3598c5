import type { Finding } from '@cxr/shared';

export interface OwnFindingChange {
  readonly findingId: string;
  readonly action: 'created' | 'changed';
}

/**
 * Which findings this reader created or changed, from successive snapshots of the scan
 * document (R-ANALYTICS-1 records the viewer state at those moments). The document arrives
 * from the server after the scan opens, so a finding's first appearance is not proof of a new
 * drawing: only edits stamped by this user at or after the opening count, and each
 * `updatedAt` once. Undoing counts as a change too (it is the reader's doing).
 */
export class OwnFindingChanges {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly userId: string,
    /** When the scan was opened, on the clock the store stamps `updatedAt` with. */
    private readonly since: number,
  ) {}

  changes(findings: readonly Finding[]): OwnFindingChange[] {
    const out: OwnFindingChange[] = [];
    for (const f of findings) {
      const before = this.seen.get(f.id);
      this.seen.set(f.id, f.updatedAt);
      if (before === f.updatedAt) continue;
      if (f.updatedBy !== this.userId || f.updatedAt < this.since) continue;
      const created = before === undefined && f.createdBy === this.userId;
      out.push({ findingId: f.id, action: created ? 'created' : 'changed' });
    }
    return out;
  }
}
