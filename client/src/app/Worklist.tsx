import type { SessionScan } from '@cxr/shared';
import { type ReactNode, useEffect, useState } from 'react';
import type { Api } from './api.js';

function Thumbnail({ api, scanId }: { api: Api; scanId: string }) {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    let made: string | undefined;
    api.thumbnail(scanId).then((u) => {
      made = u;
      if (live) setUrl(u);
      else if (u) URL.revokeObjectURL(u);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, scanId]);
  return url ? <img src={url} alt="" /> : <span className="thumb-blank" aria-hidden="true" />;
}

/** The session's scans in order, with thumbnails and their open/locked state. */
export function Worklist({
  api,
  scans,
  currentId,
  onOpen,
  actions,
  collapsed = false,
  onToggle,
}: {
  api: Api;
  scans: readonly SessionScan[];
  currentId: string | undefined;
  onOpen: (scanId: string) => void;
  /** Buttons under the heading (the moderator's "From PACS"). */
  actions?: ReactNode;
  collapsed?: boolean;
  onToggle?: () => void;
}) {
  if (collapsed)
    return (
      <nav
        className="worklist worklist-rail"
        aria-label="Worklist"
        data-testid="worklist"
        data-collapsed="true"
      >
        <button
          type="button"
          className="ghost panel-toggle"
          data-testid="toggle-worklist"
          title="Show the worklist"
          onClick={onToggle}
        >
          ▸
        </button>
      </nav>
    );
  return (
    <nav className="worklist" aria-label="Worklist" data-testid="worklist">
      <h2>
        Worklist{' '}
        {onToggle && (
          <button
            type="button"
            className="ghost panel-toggle"
            data-testid="toggle-worklist"
            title="Hide the worklist (more film)"
            onClick={onToggle}
          >
            ◂
          </button>
        )}
      </h2>
      {actions ? <div className="wl-actions">{actions}</div> : null}
      <ol>
        {[...scans]
          .sort((a, b) => a.position - b.position)
          .map((s) => (
            <li key={s.scanId}>
              <button
                type="button"
                data-testid="worklist-item"
                data-scan-id={s.scanId}
                data-locked={s.locked}
                aria-current={s.scanId === currentId ? 'true' : undefined}
                onClick={() => onOpen(s.scanId)}
              >
                <Thumbnail api={api} scanId={s.scanId} />
                <span className="wl-text">
                  <span className="wl-id">
                    {s.position + 1}. {s.scanId}
                  </span>
                  <span className={`tag ${s.locked ? 'locked' : 'open'}`}>
                    {s.locked ? 'locked' : 'open'}
                  </span>
                </span>
              </button>
            </li>
          ))}
      </ol>
    </nav>
  );
}
