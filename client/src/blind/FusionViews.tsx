import type { Finding, GlobalLabel } from '@cxr/shared';
import { useColorOf } from '../annotate/colors.js';
import { type Viewport, boxToScreen } from '../viewer/transform.js';
import type { GlobalTally } from './tallies.js';

/** "Blind reading — only you see this": a reader's private document during the blind stage. */
export function BlindBanner() {
  return (
    <div className="banner banner-blind" data-testid="blind-banner" role="status">
      Blind reading — only you see this. The moderator sees only whether you are done, until the reveal.
    </div>
  );
}

/** Shown to the moderator (and observers) while the readers read blind. */
export function BlindWaitBanner() {
  return (
    <div className="banner banner-blind" data-testid="blind-wait-banner" role="status">
      Blind stage: readers are reading alone. The shared scan stays empty and read-only until you reveal the
      readings.
    </div>
  );
}

/**
 * The share of readers behind a fused proposal ("2/3 readers") and, when selected, who drew
 * which source box (in the reader's colour, as the outlines on the image).
 */
export function FusionInfo({
  finding,
  readers,
  selected,
  nameOf,
}: {
  finding: Finding;
  readers: number;
  selected: boolean;
  nameOf: (id: string) => string;
}) {
  const colorOf = useColorOf();
  const fusion = finding.fusion;
  if (!fusion) return null;
  const count = new Set(fusion.sources.map((s) => s.readerId)).size;
  return (
    <div className="fusion" data-testid="fusion-info">
      <span
        className={`fusion-share ${fusion.share > 0.5 ? 'ok' : 'warn'}`}
        data-testid="fusion-share"
        data-share={fusion.share}
        data-count={count}
        data-total={readers}
        title={`Fused from ${count} blind reading(s); share ${fusion.share.toFixed(2)}`}
      >
        {count}/{readers} readers
      </span>
      {selected && (
        <ul className="fusion-sources">
          {fusion.sources.map((s) => (
            <li key={s.readerId} data-testid="fusion-source" data-reader-id={s.readerId}>
              <span className="swatch" style={{ background: colorOf(s.readerId) }} />
              {nameOf(s.readerId)} · {Math.round(s.box.x_min)},{Math.round(s.box.y_min)} –{' '}
              {Math.round(s.box.x_max)},{Math.round(s.box.y_max)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The source boxes of the selected proposal as thin dashed outlines in each reader's colour,
 * over the image (SVG, no pointer events: the Konva stage below keeps every interaction).
 */
export function SourceOutlines({
  finding,
  viewport,
  nameOf,
}: {
  finding: Finding | undefined;
  viewport: Viewport;
  nameOf: (id: string) => string;
}) {
  const colorOf = useColorOf();
  const sources = finding?.fusion?.sources ?? [];
  if (sources.length === 0) return null;
  return (
    <svg
      className="source-outlines"
      aria-hidden="true"
      data-testid="source-outlines"
      data-count={sources.length}
    >
      {sources.map((s) => {
        const r = boxToScreen(viewport, s.box);
        const color = colorOf(s.readerId);
        return (
          <g key={s.readerId} data-testid="source-outline" data-reader-id={s.readerId}>
            <rect
              x={r.x}
              y={r.y}
              width={r.width}
              height={r.height}
              fill="none"
              stroke={color}
              strokeWidth={1}
              strokeDasharray="4 3"
            />
            <text x={r.x + 2} y={r.y + r.height - 4} fill={color} fontSize={11}>
              {nameOf(s.readerId)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Next to a global label: how many readers marked it in the blind stage. */
export function TallyBadge({
  label,
  tally,
  readers,
}: {
  label: GlobalLabel;
  tally: GlobalTally | undefined;
  readers: number;
}) {
  if (!tally) return null;
  return (
    <small
      className={`tally tally-${tally.majority}`}
      data-testid="global-tally"
      data-label={label}
      data-count={tally.readers.length}
      data-total={readers}
      data-majority={tally.majority}
      title={`Marked by ${tally.readers.length} of ${readers} readers in the blind stage (${tally.majority})`}
    >
      {' '}
      [{tally.readers.length}/{readers}]
    </small>
  );
}
