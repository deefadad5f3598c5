import { useState } from 'react';
import type { LivePanel } from '../collab/panel-hooks.js';
import { AnalyticsView } from './AnalyticsView.js';
import { useSessionAnalytics } from './use-session-analytics.js';

/**
 * The moderator's way into the reading analytics, a side panel next to the session's other
 * moderator panels. The figures are only fetched while the view is open: per-reader numbers
 * are sensitive (R-PERM-4) and need not sit in the page while nobody looks at them.
 */
export function AnalyticsPanel({
  token,
  sessionId,
  panel,
}: {
  token: string;
  sessionId: string;
  panel: LivePanel | undefined;
}) {
  const [open, setOpen] = useState(false);
  const analytics = useSessionAnalytics(token, sessionId, panel, open);
  return (
    <section className="panel" aria-labelledby="analytics-title" data-testid="analytics-panel">
      <h2 id="analytics-title">Reading analytics</h2>
      <p className="muted">Reading time, survival, window/level and disputes per reader, live.</p>
      <button type="button" data-testid="analytics-open" onClick={() => setOpen(true)}>
        Open analytics
      </button>
      {open && (
        <AnalyticsView
          token={token}
          sessionId={sessionId}
          analytics={analytics}
          onClose={() => setOpen(false)}
        />
      )}
    </section>
  );
}
