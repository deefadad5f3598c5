import { describe, expect, it } from 'vitest';
import { INITIAL_ACTIVE_TIME, accumulateActiveTime, advanceActiveTime } from './active-time.js';

describe('accumulateActiveTime (R-ANALYTICS-2)', () => {
  it('counts open, focused time up to 30 s after the last input: idle time is excluded', () => {
    // Open at 0, input at 10 s, then nothing until 100 s: active 0..40 s (10 s + 30 s idle grace).
    const ms = accumulateActiveTime([
      { at: 0, kind: 'open' },
      { at: 10_000, kind: 'input' },
      { at: 100_000, kind: 'input' },
      { at: 105_000, kind: 'tick' },
    ]);
    // 40 s from the first stretch, 5 s after the input at 100 s.
    expect(ms).toBe(45_000);
  });

  it('excludes time without focus and time with the scan closed', () => {
    const ms = accumulateActiveTime([
      { at: 0, kind: 'open' },
      { at: 5_000, kind: 'blur' },
      { at: 20_000, kind: 'focus' }, // 15 s unfocused: not counted
      { at: 25_000, kind: 'close' },
      { at: 60_000, kind: 'open' }, // 35 s closed: not counted
      { at: 62_000, kind: 'close' },
    ]);
    expect(ms).toBe(5_000 + 5_000 + 2_000);
  });

  it('counts nothing before a scan opens and honours a custom idle limit', () => {
    expect(
      accumulateActiveTime([
        { at: 0, kind: 'input' },
        { at: 9_000, kind: 'tick' },
      ]),
    ).toBe(0);
    const ms = accumulateActiveTime(
      [
        { at: 0, kind: 'open' },
        { at: 50_000, kind: 'tick' },
      ],
      10_000,
    );
    expect(ms).toBe(10_000);
  });

  it('sorts events and never counts backwards when stepped out of order', () => {
    const events = [
      { at: 3_000, kind: 'tick' as const },
      { at: 0, kind: 'open' as const },
    ];
    expect(accumulateActiveTime(events)).toBe(3_000);
    let s = advanceActiveTime(INITIAL_ACTIVE_TIME, { at: 10_000, kind: 'open' });
    s = advanceActiveTime(s, { at: 12_000, kind: 'tick' });
    s = advanceActiveTime(s, { at: 11_000, kind: 'tick' });
    expect(s.activeMs).toBe(2_000);
  });
});
