import { useCallback, useEffect, useMemo } from 'react';
import type { RemoteCursor } from '../annotate/AnnotationStage.js';
import { throttle, usePeers } from '../collab/hooks.js';
import type { ScanConnection } from '../collab/scan-connection.js';
import type { ImagePoint } from '../viewer/transform.js';

const CURSOR_INTERVAL_MS = 66; // ~15 updates per second

/**
 * This scan's awareness: our name and colour now, our cursor throttled to ~15/s, and the
 * other members' states and cursors.
 */
export function useCursorPresence(
  connection: ScanConnection | undefined,
  generation: number,
  me: { id: string; name: string; color: string },
) {
  const { id, name, color } = me;
  const sendCursor = useMemo(
    () =>
      throttle((cursor: { x: number; y: number } | null) => {
        connection?.setPresence({ user: { id, name, color }, cursor });
      }, CURSOR_INTERVAL_MS),
    [connection, id, name, color],
  );
  useEffect(() => {
    connection?.setPresence({ user: { id, name, color }, cursor: null });
  }, [connection, id, name, color]);
  const onCursor = useCallback(
    (p: ImagePoint | null) => sendCursor(p ? { x: Math.round(p.x), y: Math.round(p.y) } : null),
    [sendCursor],
  );
  const peers = usePeers(connection, generation);
  const cursors: RemoteCursor[] = peers.flatMap((p) =>
    p.cursor
      ? [
          {
            clientId: p.clientId,
            userId: p.user.id,
            name: p.user.name,
            color: p.user.color,
            x: p.cursor.x,
            y: p.cursor.y,
          },
        ]
      : [],
  );
  return { onCursor, peers, cursors };
}
