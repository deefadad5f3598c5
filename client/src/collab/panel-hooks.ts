import { useEffect, useState, useSyncExternalStore } from 'react';
import { PanelChannel, type PanelEvent, type PanelSnapshot } from './panel-channel.js';
import { socketIoChannel } from './socket-io.js';

const noopSubscribe = () => () => {};
const noSnapshot = () => undefined;

export interface LivePanel {
  readonly channel: PanelChannel;
  readonly snapshot: PanelSnapshot;
}

/** "Follow the moderator" is remembered per tab and session, so a reload keeps the choice. */
function followKey(sessionId: string): string {
  return `cxr.follow.${sessionId}`;
}

export function loadFollowing(sessionId: string, fallback: boolean): boolean {
  try {
    const v = sessionStorage.getItem(followKey(sessionId));
    return v === null ? fallback : v === 'true';
  } catch {
    return fallback;
  }
}

export function saveFollowing(sessionId: string, following: boolean): void {
  try {
    sessionStorage.setItem(followKey(sessionId), String(following));
  } catch {
    // Storage refused (private mode): the choice lasts until the reload.
  }
}

/**
 * One live-panel connection per session view (it spans the session's scans, unlike the
 * per-scan document connection). Readers follow the moderator unless they said otherwise.
 * `followByDefault` is undefined until the user's role on the session is known: no socket is
 * opened before that, so the channel is not opened twice on every session load.
 */
export function usePanelChannel(
  token: string,
  sessionId: string,
  followByDefault: boolean | undefined,
  onEvent: (event: PanelEvent, channel: PanelChannel) => void,
): LivePanel | undefined {
  const [channel, setChannel] = useState<PanelChannel | undefined>();
  useEffect(() => {
    if (followByDefault === undefined) return;
    const c = new PanelChannel(socketIoChannel(token, sessionId), {
      following: loadFollowing(sessionId, followByDefault),
    });
    setChannel(c);
    return () => {
      c.dispose();
      setChannel(undefined);
    };
  }, [token, sessionId, followByDefault]);
  useEffect(() => {
    if (!channel) return;
    return channel.onEvent((event) => onEvent(event, channel));
  }, [channel, onEvent]);
  const snapshot = useSyncExternalStore(
    channel ? channel.subscribe : noopSubscribe,
    channel ? channel.getSnapshot : noSnapshot,
  );
  return channel && snapshot ? { channel, snapshot } : undefined;
}
