import { describe, expect, it } from 'vitest';
import type { DecodeResponse } from './decode-protocol.js';
import { ImageCache, prefetchOrder } from './image-cache.js';

const ok = (id: number) =>
  ({
    id,
    ok: true,
    image: {},
    timings: { fetchMs: 0, decodeMs: 0, prepareMs: 0 },
  }) as unknown as DecodeResponse;

describe('ImageCache (prefetch budget, docs/UI.md)', () => {
  it('keeps at most its budget of scans and drops the least recently used', async () => {
    const cache = new ImageCache(3);
    let calls = 0;
    const decode = async () => ok(++calls);
    await cache.get('a', '/a', decode);
    await cache.get('b', '/b', decode);
    await cache.get('c', '/c', decode);
    expect(cache.ready('a')).toBeDefined(); // a is now the most recent
    await cache.get('d', '/d', decode);
    expect(cache.keys()).toEqual(['c', 'a', 'd']);
    expect(cache.has('b')).toBe(false);
    expect(calls).toBe(4);
  });

  it('starts one decode per scan however often it is asked for', async () => {
    const cache = new ImageCache(3);
    let calls = 0;
    const decode = async () => ok(++calls);
    const [x, y] = await Promise.all([cache.get('a', '/a', decode), cache.get('a', '/a', decode)]);
    expect(x).toBe(y);
    expect(calls).toBe(1);
  });

  it('does not keep a failed decode, so the next visit tries again', async () => {
    const cache = new ImageCache(3);
    const failed: DecodeResponse = { id: 1, ok: false, status: 503, message: 'busy' };
    await cache.get('a', '/a', async () => failed);
    expect(cache.has('a')).toBe(false);
    expect(cache.ready('a')).toBeUndefined();
  });

  it('has nothing ready while the decode is still on its way', () => {
    const cache = new ImageCache(3);
    void cache.get('a', '/a', () => new Promise(() => {}));
    expect(cache.has('a')).toBe(true);
    expect(cache.ready('a')).toBeUndefined();
  });
});

describe('prefetchOrder', () => {
  const worklist = ['s1', 's2', 's3', 's4', 's5'];
  it('takes the next scans in worklist order, leaving room for the open one', () => {
    expect(prefetchOrder({ worklist, current: 's2', moderatorScanId: null, budget: 3 })).toEqual([
      's3',
      's4',
    ]);
  });
  it("puts the moderator's scan first when the reader is elsewhere", () => {
    expect(prefetchOrder({ worklist, current: 's1', moderatorScanId: 's5', budget: 3 })).toEqual([
      's5',
      's2',
    ]);
  });
  it('ignores the moderator on the same scan and scans not on the worklist', () => {
    expect(prefetchOrder({ worklist, current: 's4', moderatorScanId: 's4', budget: 3 })).toEqual(['s5']);
    expect(prefetchOrder({ worklist, current: 's4', moderatorScanId: 'other', budget: 3 })).toEqual(['s5']);
  });
  it('prefetches nothing with a budget of one scan', () => {
    expect(prefetchOrder({ worklist, current: 's1', moderatorScanId: 's3', budget: 1 })).toEqual([]);
  });
});
