import { describe, expect, it } from 'vitest';
import { decodeFrame, MSG_SYNC, SYNC_UPDATE } from '../src/collab/frames.js';

describe('incoming frames (R-PROTO-2)', () => {
  it('R-PROTO-2: lengths beyond the frame, trailing bytes and unknown types are refused', () => {
    // Bad inputs tried: a payload length past the frame, a byte after the message, an unknown
    // message type, an unknown sync subtype, an empty frame.
    expect(decodeFrame(Uint8Array.from([MSG_SYNC, SYNC_UPDATE, 4, 1, 2])).ok).toBe(false);
    expect(decodeFrame(Uint8Array.from([MSG_SYNC, SYNC_UPDATE, 1, 1, 0])).ok).toBe(false);
    expect(decodeFrame(Uint8Array.from([9])).ok).toBe(false);
    expect(decodeFrame(Uint8Array.from([MSG_SYNC, 7, 0])).ok).toBe(false);
    expect(decodeFrame(new Uint8Array(0)).ok).toBe(false);
    // The same frame, well formed, decodes to its payload.
    const good = decodeFrame(Uint8Array.from([MSG_SYNC, SYNC_UPDATE, 2, 1, 2]));
    expect(good.ok && good.frame.kind === 'update' ? [...good.frame.update] : undefined).toEqual([1, 2]);
  });
});
