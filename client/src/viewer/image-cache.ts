import type { DecodeResponse } from './decode-protocol.js';

/**
 * Decoded full-resolution scans kept for moving on without waiting: the open scan and the next
 * ones in worklist order (prefetched). A decoded 3000 x 2800 film with its pyramid takes about
 * 22 MB, so the budget is counted in scans; the least recently used one goes first.
 */
export const PREFETCH_BUDGET_SCANS = 3;

type Decode = (url: string) => Promise<DecodeResponse>;

interface Entry {
  readonly promise: Promise<DecodeResponse>;
  result?: DecodeResponse;
}

export class ImageCache {
  // Map iteration order is insertion order: re-inserting on use keeps the LRU at the front.
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number = PREFETCH_BUDGET_SCANS) {}

  /** The decoded scan if it is already here (no waiting). */
  ready(key: string): DecodeResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry?.result) return undefined;
    this.touch(key, entry);
    return entry.result;
  }

  /** The scan's decode, started now unless it is already here or on its way. */
  get(key: string, url: string, decode: Decode): Promise<DecodeResponse> {
    const existing = this.entries.get(key);
    if (existing) {
      this.touch(key, existing);
      return existing.promise;
    }
    const entry: Entry = {
      promise: decode(url).then((r) => {
        // A failed decode is not kept: the next visit tries again.
        if (r.ok) entry.result = r;
        else if (this.entries.get(key) === entry) this.entries.delete(key);
        return r;
      }),
    };
    this.entries.set(key, entry);
    this.evict();
    return entry.promise;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) return;
      this.entries.delete(oldest);
    }
  }
}

/** Which scans to fetch ahead: the next ones in worklist order, then the moderator's. */
export function prefetchOrder(input: {
  worklist: readonly string[];
  current: string;
  moderatorScanId: string | null;
  budget: number;
}): string[] {
  const room = Math.max(0, input.budget - 1);
  const at = input.worklist.indexOf(input.current);
  const out: string[] = [];
  // Where the moderator is, the panel is likely to be brought next.
  if (
    input.moderatorScanId &&
    input.moderatorScanId !== input.current &&
    input.worklist.includes(input.moderatorScanId)
  )
    out.push(input.moderatorScanId);
  for (let i = at + 1; i < input.worklist.length && out.length < room; i++) {
    const id = input.worklist[i];
    if (id !== undefined && !out.includes(id)) out.push(id);
  }
  return out.slice(0, room);
}

let shared: ImageCache | undefined;

/** The page's one cache (cleared on sign-out, so another user never sees these pixels). */
export function sharedImageCache(): ImageCache {
  shared ??= new ImageCache();
  return shared;
}

/** Prefetch is on unless turned off in this browser (the viewer benchmark compares both). */
export function prefetchEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem('cxr.prefetch') !== 'off';
  } catch {
    return true;
  }
}
