import {
  PROTOCOL_VERSION,
  decisionKey,
  readDecisions,
  readFindings,
  readGlobals,
  readMeta,
} from '@cxr/shared';
import { useEffect, useState } from 'react';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

export interface ScanSummary {
  readonly locked: boolean;
  /** Findings and proposed global labels without a decision (what a lock must settle). */
  readonly undecided: number;
  readonly candidates: number;
}

/** The same rule as the server's lock: every finding and proposed global label needs a decision. */
export function summarize(doc: Y.Doc): ScanSummary {
  const decided = new Set(readDecisions(doc).map((d) => decisionKey(d.target)));
  const keys = [
    ...readFindings(doc).map((f) => decisionKey({ kind: 'finding', id: f.id })),
    ...readGlobals(doc).map((g) => decisionKey({ kind: 'global', label: g.label })),
  ];
  return {
    locked: readMeta(doc).locked,
    undecided: keys.filter((k) => !decided.has(k)).length,
    candidates: keys.length,
  };
}

/**
 * Live summaries of the session's other scans for the moderator's worklist: one read-only
 * document connection per scan (no IndexedDB, no awareness state, so nobody sees the moderator
 * "on" those scans), closed when the panel goes away. Scan documents are small (boxes and
 * labels), so a session's worth is cheap.
 */
export function useScanSummaries(
  wsBase: string,
  token: string,
  sessionId: string,
  scanIds: readonly string[],
): ReadonlyMap<string, ScanSummary> {
  const [summaries, setSummaries] = useState<ReadonlyMap<string, ScanSummary>>(new Map());
  const key = scanIds.join('\n');
  useEffect(() => {
    const ids = key ? key.split('\n') : [];
    const open = ids.map((scanId) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(wsBase, `${sessionId}/${scanId}`, doc, {
        params: { token, v: String(PROTOCOL_VERSION) },
        disableBc: true,
        maxBackoffTime: 5000,
      });
      provider.awareness.setLocalState(null);
      const update = () =>
        setSummaries((prev) => {
          const next = new Map(prev);
          next.set(scanId, summarize(doc));
          return next;
        });
      provider.on('sync', (synced: boolean) => {
        if (synced) update();
      });
      doc.on('update', update);
      return { doc, provider };
    });
    return () => {
      for (const { doc, provider } of open) {
        provider.destroy();
        doc.destroy();
      }
    };
  }, [wsBase, token, sessionId, key]);
  return summaries;
}
