import { DOC_ROOTS, GLOBAL_LABELS } from '@cxr/shared';
import { useEffect, useState } from 'react';
import type * as Y from 'yjs';

/** Per-reader tally of one global label from the blind stage (written by the server at the reveal). */
export interface GlobalTally {
  readonly label: string;
  readonly readers: readonly string[];
  readonly share: number;
  readonly majority: 'present' | 'absent' | 'tie';
}

/** Reads the server-only `tallies` map; entries that do not parse are skipped, not trusted. */
export function readTallies(doc: Y.Doc): Map<string, GlobalTally> {
  const out = new Map<string, GlobalTally>();
  for (const [key, value] of doc.getMap(DOC_ROOTS.tallies).entries()) {
    if (!(GLOBAL_LABELS as readonly string[]).includes(key)) continue;
    if (typeof value !== 'object' || value === null) continue;
    const v = value as Record<string, unknown>;
    if (!Array.isArray(v.readers) || typeof v.share !== 'number') continue;
    const majority = v.majority === 'present' || v.majority === 'tie' ? v.majority : 'absent';
    out.set(key, {
      label: key,
      readers: v.readers.filter((r): r is string => typeof r === 'string'),
      share: v.share,
      majority,
    });
  }
  return out;
}

/** The tallies of a scan document, refreshed when the server writes them. */
export function useTallies(doc: Y.Doc | undefined): Map<string, GlobalTally> {
  const [tallies, setTallies] = useState<Map<string, GlobalTally>>(() => new Map());
  useEffect(() => {
    if (!doc) {
      setTallies(new Map());
      return;
    }
    const map = doc.getMap(DOC_ROOTS.tallies);
    const read = () => setTallies(readTallies(doc));
    read();
    map.observe(read);
    return () => map.unobserve(read);
  }, [doc]);
  return tallies;
}
