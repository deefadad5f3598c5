import { type RefObject, useCallback } from 'react';
import type { ImageState } from '../viewer/use-scan-image.js';

/**
 * Request-to-first-paint, published on the viewer element for the benchmark and the status
 * tooltip. The first paint may be the preview's; the full image's own first paint is
 * published too (`data-full-paint-ms`).
 */
export function useFirstPaint(ref: RefObject<HTMLDivElement | null>, imageState: ImageState): () => void {
  const requestedAt = imageState.kind === 'loading' ? undefined : imageState.requestedAt;
  const timings = imageState.kind === 'ready' ? imageState.timings : undefined;
  const isPreview = imageState.kind !== 'loading' && imageState.image.preview === true;
  return useCallback(() => {
    const el = ref.current;
    if (!el || requestedAt === undefined) return;
    const elapsed = (performance.now() - requestedAt).toFixed(1);
    if (el.dataset.paintRequest !== String(requestedAt)) {
      el.dataset.paintRequest = String(requestedAt);
      el.dataset.firstPaintMs = elapsed;
      delete el.dataset.fullPaintMs;
    }
    if (!isPreview) {
      el.dataset.fullPaintMs = elapsed;
      if (timings) el.dataset.decodeTimings = JSON.stringify(timings);
    }
  }, [ref, requestedAt, timings, isPreview]);
}
