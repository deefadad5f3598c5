import type { SessionScan } from '@cxr/shared';
import { PREVIEW_STEP, hasPreview } from '@cxr/shared';
import { useEffect, useState } from 'react';
import type { ViewerController } from './controller.js';
import { sharedDecoder } from './decode-client.js';
import type { DecodeResponse, DecodeTimings } from './decode-protocol.js';
import { type DecodedImage, placeholderImage } from './dicom.js';
import type { ImageCache } from './image-cache.js';

export type ImageState =
  | { kind: 'loading' }
  | { kind: 'ready'; image: DecodedImage; requestedAt: number; timings: DecodeTimings }
  | { kind: 'placeholder'; image: DecodedImage; why: string; requestedAt: number };

/** Where the client fetches a scan's full file and its quarter-resolution preview. */
export interface ImageUrls {
  readonly full: (scanId: string) => string;
  readonly preview: (scanId: string) => string;
}

/**
 * Fetches and decodes the scan in the worker: the server's quarter-resolution preview and the
 * full file at once. The preview (about 1 MB) is painted first; the full image then replaces
 * it without moving the view. A scan already decoded (prefetched, or seen a moment ago) is
 * shown at once from the cache. The controller gets each image before React renders it, so
 * every first frame on the canvas is already the right one.
 */
export function useScanImage(
  scan: SessionScan,
  token: string,
  controller: ViewerController,
  urls: ImageUrls,
  cache: ImageCache,
): ImageState {
  const [state, setState] = useState<ImageState>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    let fullArrived = false;
    let previewShown = false;
    const started = performance.now();
    const decoder = sharedDecoder();
    const cached = cache.ready(scan.scanId);
    if (cached?.ok) {
      controller.setImage(cached.image);
      setState({ kind: 'ready', image: cached.image, requestedAt: started, timings: cached.timings });
      return;
    }
    setState({ kind: 'loading' });
    // Already on its way (a prefetch): the preview would only compete with it.
    if (hasPreview(scan.rows, scan.columns) && !cache.has(scan.scanId)) {
      const previewOf = { rows: scan.rows, columns: scan.columns, step: PREVIEW_STEP };
      // A missing or failed preview only means waiting for the full file.
      void decoder.decode(urls.preview(scan.scanId), token, previewOf).then((r) => {
        if (!live || fullArrived || !r.ok) return;
        previewShown = true;
        controller.setImage(r.image);
        setState({ kind: 'ready', image: r.image, requestedAt: started, timings: r.timings });
      });
    }
    const full = (url: string): Promise<DecodeResponse> => decoder.decode(url, token);
    void cache.get(scan.scanId, urls.full(scan.scanId), full).then((r) => {
      if (!live) return;
      fullArrived = true;
      if (r.ok) {
        if (previewShown) controller.upgradeImage(r.image);
        else controller.setImage(r.image);
        setState({ kind: 'ready', image: r.image, requestedAt: started, timings: r.timings });
      } else {
        const why =
          r.status === 404
            ? 'No pixel data on the server for this scan yet'
            : `Image unavailable: ${r.message}`;
        const image = placeholderImage(scan.rows, scan.columns);
        controller.setImage(image);
        setState({ kind: 'placeholder', image, why, requestedAt: started });
      }
    });
    return () => {
      live = false;
    };
  }, [scan.scanId, scan.rows, scan.columns, token, controller, urls, cache]);
  return state;
}
