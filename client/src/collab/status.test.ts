import { describe, expect, it } from 'vitest';
import { classifyClose, deriveStatus, describeRefusal } from './status.js';

const base = {
  connected: false,
  synced: false,
  everSynced: false,
  attemptFailed: false,
  browserOnline: true,
  locked: false,
  refusal: undefined,
};

describe('connection status', () => {
  it('classifies close codes from the shared table', () => {
    expect(classifyClose(1006).kind).toBe('retry');
    expect(classifyClose(4429).kind).toBe('retry');
    expect(classifyClose(4503).kind).toBe('retry');
    expect(classifyClose(4422).kind).toBe('discard-and-resync');
    expect(classifyClose(4409).kind).toBe('discard-and-resync');
    expect(classifyClose(4403).kind).toBe('discard-and-resync');
    expect(classifyClose(4401).kind).toBe('stop');
    expect(classifyClose(4426).kind).toBe('stop');
  });

  it('describes refusals with the table name and the server detail', () => {
    expect(describeRefusal(4422, 'invalid update: finding f1: box outside the image')).toBe(
      'invalid update: finding f1: box outside the image (4422)',
    );
    expect(describeRefusal(4401, '')).toBe('unauthenticated (4401)');
    expect(describeRefusal(4409, 'x')).toBe('scan locked: x (4409)');
  });

  it('derives one state for the banner and the test hooks', () => {
    expect(deriveStatus(base).state).toBe('connecting');
    expect(deriveStatus({ ...base, connected: true, synced: true, everSynced: true }).state).toBe('synced');
    expect(deriveStatus({ ...base, everSynced: true }).state).toBe('offline');
    expect(deriveStatus({ ...base, browserOnline: false }).state).toBe('offline');
    expect(deriveStatus({ ...base, attemptFailed: true }).state).toBe('offline');
    expect(deriveStatus({ ...base, connected: true, synced: true, locked: true }).state).toBe('locked');
    const refusal = { code: 4401, reason: 'expired', discarded: false, stopped: true };
    expect(deriveStatus({ ...base, connected: true, synced: true, refusal }).state).toBe('refused');
  });
});
