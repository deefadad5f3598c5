import { useEffect, useLayoutEffect, useRef, useState } from 'react';

/**
 * One Observable Plot chart in React: Plot builds a detached SVG (or a figure with its
 * legend), which replaces the container's content whenever the data or the width change.
 * React never renders inside the container, so the two never fight over the same nodes.
 */
export function PlotFigure({
  plot,
  name,
  points,
  empty,
}: {
  /** Builds the chart for a width in CSS pixels; memoised by the caller on its data. */
  plot: (width: number) => Element;
  /** Which plot this is (`data-plot`, for tests and styling). */
  name: string;
  /** How many data points it draws (`data-points`); none shows `empty` instead. */
  points: number;
  empty: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(Math.floor(el.clientWidth));
    const observer = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el || width <= 0 || points === 0) return;
    const chart = plot(width);
    el.replaceChildren(chart);
    return () => chart.remove();
  }, [plot, width, points]);
  return (
    <div className="analytics-plot" data-testid="analytics-plot" data-plot={name} data-points={points}>
      {points === 0 && <p className="muted analytics-empty">{empty}</p>}
      <div ref={ref} className="analytics-plot-canvas" hidden={points === 0} />
    </div>
  );
}
