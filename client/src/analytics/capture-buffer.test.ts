import {
  ANALYTICS_IDLE_MS,
  ANALYTICS_MAX_BATCH_BYTES,
  ANALYTICS_MAX_FINDING_VIEWS,
  ANALYTICS_MAX_TOOLS,
  AnalyticsCaptureSchema,
  type FindingView,
} from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { CaptureBuffer, batchBytes, outcomeOf } from './capture-buffer.js';

const T0 = 1_800_000_000_000;
let ids = 0;
const buffer = () => new CaptureBuffer(() => `batch-${String(++ids).padStart(4, '0')}`);
const view = (findingId: string, at: number, action: FindingView['action'] = 'created'): FindingView => ({
  findingId,
  action,
  at,
  view: { windowCenter: 2048, windowWidth: 4096, preset: 'lung', zoom: 0.25, invert: false },
});

describe('CaptureBuffer', () => {
  it('has nothing to send before anything happens', () => {
    const b = buffer();
    expect(b.pending()).toBe(false);
    expect(b.next(T0)).toBeUndefined();
  });

  it('reports active time and the opening once, then only what is new (R-ANALYTICS-1, -2)', () => {
    const b = buffer();
    b.activity('s1', 'open', T0);
    b.tick(T0 + 4000);
    const first = b.next(T0 + 4000);
    expect(AnalyticsCaptureSchema.parse(first)).toEqual({
      batchId: first?.batchId,
      sentAt: T0 + 4000,
      scans: [{ scanId: 's1', activeMs: 4000, openedAt: T0, tools: {}, findingViews: [] }],
    });
    b.answered(first?.batchId ?? '', 'stored');
    b.tick(T0 + 9000);
    const second = b.next(T0 + 9000);
    expect(second?.scans).toEqual([{ scanId: 's1', activeMs: 5000, tools: {}, findingViews: [] }]);
    expect(second?.batchId).not.toBe(first?.batchId);
  });

  it('excludes idle and unfocused time', () => {
    const b = buffer();
    b.activity('s1', 'open', T0);
    // No input after the opening: only the first 30 s count, however long the scan stays open.
    b.tick(T0 + ANALYTICS_IDLE_MS + 60_000);
    expect(b.next(T0 + ANALYTICS_IDLE_MS + 60_000)?.scans[0]?.activeMs).toBe(ANALYTICS_IDLE_MS);

    const c = buffer();
    c.activity('s1', 'open', T0);
    c.activity('s1', 'blur', T0 + 2000);
    c.tick(T0 + 20_000);
    c.activity('s1', 'focus', T0 + 20_000);
    c.tick(T0 + 21_000);
    expect(c.next(T0 + 21_000)?.scans[0]?.activeMs).toBe(3000);
  });

  it('stops counting when the scan is closed', () => {
    const b = buffer();
    b.activity('s1', 'open', T0);
    b.activity('s1', 'close', T0 + 1500);
    b.tick(T0 + 10_000);
    expect(b.next(T0 + 10_000)?.scans[0]?.activeMs).toBe(1500);
  });

  it('sends the same batch again, with the same id and a fresh sentAt, until it is acknowledged', () => {
    const b = buffer();
    b.activity('s1', 'open', T0);
    b.tool('s1', 'wl', 2);
    b.tick(T0 + 1000);
    const first = b.next(T0 + 1000);
    b.answered(first?.batchId ?? '', 'retry');
    // Meanwhile more happens: it waits for the next batch, not mixed into the retried one.
    b.tool('s1', 'pan');
    const again = b.next(T0 + 8000);
    expect(again?.batchId).toBe(first?.batchId);
    expect(again?.sentAt).toBe(T0 + 8000);
    expect(again?.scans).toEqual(first?.scans);
    b.answered(again?.batchId ?? '', 'stored');
    const next = b.next(T0 + 9000);
    expect(next?.batchId).not.toBe(first?.batchId);
    expect(next?.scans[0]?.tools).toEqual({ pan: 1 });
  });

  it('drops a refused batch and ignores answers to other ids', () => {
    const b = buffer();
    b.tool('s1', 'wl');
    const first = b.next(T0);
    b.answered('another-batch', 'stored');
    expect(b.busy).toBe(true);
    b.answered(first?.batchId ?? '', 'drop');
    expect(b.busy).toBe(false);
    expect(b.pending()).toBe(false);
  });

  it('gives up a retry that the server would refuse for its age', () => {
    const b = buffer();
    b.tool('s1', 'wl');
    const first = b.next(T0);
    b.answered(first?.batchId ?? '', 'retry');
    expect(b.next(T0 + 60 * 60_000)).toBeUndefined();
  });

  it('keeps the latest view per finding and action, oldest change first', () => {
    const b = buffer();
    b.findingView('s1', view('f1', T0));
    b.findingView('s1', view('f2', T0 + 1));
    b.findingView('s1', view('f1', T0 + 2, 'changed'));
    b.findingView('s1', view('f1', T0 + 3, 'changed'));
    const views = b.next(T0 + 10)?.scans[0]?.findingViews ?? [];
    expect(views.map((v) => [v.findingId, v.action, v.at])).toEqual([
      ['f1', 'created', T0],
      ['f2', 'created', T0 + 1],
      ['f1', 'changed', T0 + 3],
    ]);
  });

  it('keeps every batch within the protocol bounds and carries the rest over', () => {
    const b = buffer();
    const long = (i: number) => `f-${'u'.repeat(100)}-${i}`;
    for (let i = 0; i < 150; i++) b.findingView('s1', view(long(i), T0 + i));
    for (let i = 0; i < ANALYTICS_MAX_TOOLS + 4; i++) b.tool('s1', `tool-${i}`);
    for (let s = 0; s < 10; s++) b.tool(`scan-${s}`, 'wl');
    let sent = 0;
    let batches = 0;
    for (let at = T0 + 1000; b.pending(); at += 5000) {
      const batch = b.next(at);
      if (!batch) break;
      expect(() => AnalyticsCaptureSchema.parse(batch)).not.toThrow();
      expect(batchBytes(batch)).toBeLessThanOrEqual(ANALYTICS_MAX_BATCH_BYTES);
      for (const s of batch.scans)
        expect(s.findingViews?.length ?? 0).toBeLessThanOrEqual(ANALYTICS_MAX_FINDING_VIEWS);
      sent += batch.scans.reduce((n, s) => n + (s.findingViews?.length ?? 0), 0);
      b.answered(batch.batchId, 'stored');
      batches++;
    }
    expect(sent).toBe(150);
    expect(batches).toBeGreaterThan(3);
  });

  it('forgets closed scans once everything about them is acknowledged', () => {
    const b = buffer();
    b.activity('s1', 'open', T0);
    b.activity('s1', 'close', T0 + 500);
    const batch = b.next(T0 + 600);
    b.answered(batch?.batchId ?? '', 'stored');
    b.prune();
    b.tick(T0 + 10_000);
    expect(b.pending()).toBe(false);
  });
});

describe('outcomeOf', () => {
  it('retries what a later attempt can fix and drops what it cannot', () => {
    expect(outcomeOf({ ok: true })).toBe('stored');
    expect(outcomeOf({ ok: false, error: { code: 'unavailable' } })).toBe('retry');
    expect(outcomeOf({ ok: false, error: { code: 'rate_limited' } })).toBe('retry');
    expect(outcomeOf({ ok: false, error: { code: 'validation_failed' } })).toBe('drop');
    expect(outcomeOf({ ok: false, error: { code: 'forbidden' } })).toBe('drop');
    expect(outcomeOf({ ok: false, error: { code: 'payload_too_large' } })).toBe('drop');
  });
});
