import { useEffect } from 'react';
import { sharedDecoder } from '../viewer/decode-client.js';
import { type ImageCache, PREFETCH_BUDGET_SCANS, prefetchOrder } from '../viewer/image-cache.js';
import type { ImageUrls } from '../viewer/use-scan-image.js';

/**
 * Once the open scan's full image is in, the next scans of the worklist (and the one the
 * moderator is on) are fetched and decoded in the background into the cache, within its
 * budget, so moving on is instant. Only scans of this session's worklist are ever fetched:
 * the server gave the user that list because they may read them.
 */
export function usePrefetch(input: {
  enabled: boolean;
  /** The open scan's full image is here: prefetch no longer competes with it. */
  ready: boolean;
  cache: ImageCache;
  urls: ImageUrls;
  token: string;
  worklist: readonly string[];
  current: string;
  moderatorScanId: string | null;
}): void {
  const { enabled, ready, cache, urls, token, current, moderatorScanId } = input;
  const order = input.worklist.join('\n');
  useEffect(() => {
    if (!enabled || !ready) return;
    const ids = prefetchOrder({
      worklist: order.split('\n'),
      current,
      moderatorScanId,
      budget: PREFETCH_BUDGET_SCANS,
    });
    const decoder = sharedDecoder();
    for (const id of ids) cache.get(id, urls.full(id), (url) => decoder.decode(url, token));
  }, [enabled, ready, cache, urls, token, order, current, moderatorScanId]);
}
