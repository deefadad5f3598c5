import { ANALYTICS_SEND_INTERVAL_MS, type AnalyticsCaptureInput } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { CaptureBuffer } from './capture-buffer.js';
import { type CaptureAnswer, CaptureSender } from './capture-sender.js';

const T0 = 1_800_000_000_000;

/** A send function whose answers the test gives by hand, in order. */
function channel() {
  const sent: AnalyticsCaptureInput[] = [];
  const resolvers: Array<(a: CaptureAnswer) => void> = [];
  return {
    sent,
    send: (batch: AnalyticsCaptureInput) => {
      sent.push(batch);
      return new Promise<CaptureAnswer>((resolve) => resolvers.push(resolve));
    },
    answer: async (a: CaptureAnswer) => {
      resolvers.shift()?.(a);
      await Promise.resolve();
    },
  };
}

function setup() {
  let now = T0;
  let n = 0;
  const buffer = new CaptureBuffer(() => `batch-${String(++n).padStart(4, '0')}`);
  const sender = new CaptureSender(buffer, () => now);
  return { buffer, sender, at: (t: number) => (now = T0 + t) };
}

describe('CaptureSender', () => {
  it('sends at most one batch per interval, one at a time, and only when something happened', async () => {
    const { buffer, sender, at } = setup();
    const ch = channel();
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(0);
    buffer.activity('s1', 'open', T0);
    at(1000);
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(1);
    at(2000);
    buffer.tool('s1', 'wl');
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(1);
    await ch.answer({ ok: true, stored: true });
    at(1000 + ANALYTICS_SEND_INTERVAL_MS - 1);
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(1);
    at(1000 + ANALYTICS_SEND_INTERVAL_MS);
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(2);
    expect(ch.sent[1]?.scans[0]?.tools).toEqual({ wl: 1 });
  });

  it('retries a failed batch with the same id after a backoff', async () => {
    const { buffer, sender, at } = setup();
    const ch = channel();
    buffer.tool('s1', 'wl');
    sender.pump(ch.send);
    await ch.answer({ ok: false, error: { code: 'unavailable', message: 'offline' } });
    at(ANALYTICS_SEND_INTERVAL_MS);
    sender.pump(ch.send);
    expect(ch.sent.map((b) => b.batchId)).toEqual(['batch-0001', 'batch-0001']);
    await ch.answer({ ok: true, stored: false });
    expect(buffer.pending()).toBe(false);
  });

  it('flushes at once, even beside a batch still waiting for its answer', async () => {
    const { buffer, sender, at } = setup();
    const ch = channel();
    buffer.tool('s1', 'wl');
    sender.pump(ch.send);
    buffer.tool('s1', 'pan');
    at(10);
    // Not time yet for an ordinary send while one waits...
    sender.pump(ch.send);
    expect(ch.sent).toHaveLength(1);
    // ...but leaving the scan may be the last chance.
    sender.pump(ch.send, true);
    expect(ch.sent.map((b) => b.scans[0]?.tools)).toEqual([{ wl: 1 }, { pan: 1 }]);
    await ch.answer({ ok: true, stored: true });
    await ch.answer({ ok: false, error: { code: 'unavailable', message: 'offline' } });
    at(10 + ANALYTICS_SEND_INTERVAL_MS);
    sender.pump(ch.send);
    expect(ch.sent[2]?.batchId).toBe(ch.sent[1]?.batchId);
  });

  it('a flush sends a failed batch again and what is new beside it, within the burst', async () => {
    const { buffer, sender, at } = setup();
    const ch = channel();
    buffer.tool('s1', 'wl');
    sender.pump(ch.send);
    // Not connected yet: the first batch fails and waits for its retry.
    await ch.answer({ ok: false, error: { code: 'unavailable', message: 'not connected' } });
    at(100);
    buffer.findingView('s1', {
      findingId: 'f1',
      action: 'created',
      at: T0 + 100,
      view: { windowCenter: 1, windowWidth: 2, preset: 'default', zoom: 1, invert: false },
    });
    // The reader signs out at once: both go now, the retry with its own id.
    sender.pump(ch.send, true);
    expect(ch.sent.map((b) => b.batchId)).toEqual(['batch-0001', 'batch-0001', 'batch-0002']);
    expect(ch.sent[2]?.scans[0]?.findingViews?.map((v) => v.findingId)).toEqual(['f1']);
    expect(buffer.pending()).toBe(false);
  });

  it('keeps everything while there is no channel', () => {
    const { buffer, sender } = setup();
    buffer.tool('s1', 'wl');
    sender.pump(undefined, true);
    expect(buffer.pending()).toBe(true);
    expect(buffer.busy).toBe(false);
  });
});
