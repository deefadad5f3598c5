import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import type * as Y from 'yjs';
import { EMPTY_SNAPSHOT, YAnnotationStore } from '../annotate/store.js';

const noSubscribe = () => () => {};
const emptySnapshot = () => EMPTY_SNAPSHOT;

/** The scan document's findings, global labels, progress and decisions, as React state. */
export function useAnnotations(doc: Y.Doc | undefined, userId: string, rows: number, columns: number) {
  const imageSize = useMemo(() => ({ rows, columns }), [rows, columns]);
  const store = useMemo(
    () => (doc ? new YAnnotationStore(doc, userId, imageSize) : undefined),
    [doc, userId, imageSize],
  );
  useEffect(() => () => store?.destroy(), [store]);
  const subscribe = useCallback((fn: () => void) => (store ? store.subscribe(fn) : noSubscribe()), [store]);
  const snapshot = useCallback(() => (store ? store.getSnapshot() : emptySnapshot()), [store]);
  const snap = useSyncExternalStore(subscribe, snapshot);
  return { store, snap };
}
