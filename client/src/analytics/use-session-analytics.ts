import type { AnalyticsResponse } from '@cxr/shared';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LivePanel } from '../collab/panel-hooks.js';
import { fetchAnalytics } from './analytics-api.js';

/** Readers send capture every 5 s at most; reading again a little slower keeps it live. */
export const ANALYTICS_REFRESH_MS = 8000;

export interface SessionAnalytics {
  readonly data: AnalyticsResponse | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * The session's analytics, kept live while `active`: read again every few seconds and at once
 * when a scan is locked or unlocked (survival and F1 change only then). One request at a time;
 * an answer that arrives after a newer one was asked for is dropped.
 */
export function useSessionAnalytics(
  token: string,
  sessionId: string,
  panel: LivePanel | undefined,
  active: boolean,
): SessionAnalytics {
  const [data, setData] = useState<AnalyticsResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const asked = useRef(0);
  const reload = useCallback(() => {
    const n = ++asked.current;
    setLoading(true);
    fetchAnalytics(token, sessionId).then(
      (a) => {
        if (n !== asked.current) return;
        setData(a);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (n !== asked.current) return;
        setError(e instanceof Error ? e.message : 'cannot load the analytics');
        setLoading(false);
      },
    );
  }, [token, sessionId]);

  useEffect(() => {
    if (!active) return;
    reload();
    const timer = setInterval(reload, ANALYTICS_REFRESH_MS);
    return () => {
      clearInterval(timer);
      // Leaving: a late answer must not land in a closed view.
      asked.current++;
    };
  }, [active, reload]);

  const channel = panel?.channel;
  useEffect(() => {
    if (!active || !channel) return;
    return channel.onEvent((event) => {
      if (event.kind === 'locked' || event.kind === 'unlocked') reload();
    });
  }, [active, channel, reload]);

  return { data, error, loading, reload };
}
