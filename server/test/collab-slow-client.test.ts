import { CLOSE } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { Connection, MAX_BUFFERED_BYTES, type PeerSocket } from '../src/collab/connection.js';

/** A socket whose unsent data the test sets; it records what was sent and how it closed. */
function socket() {
  const s = {
    buffered: 0,
    sent: 0,
    closedWith: undefined as number | undefined,
    send() {
      s.sent++;
    },
    close(code: number) {
      s.closedWith = code;
    },
    get bufferedAmount() {
      return s.buffered;
    },
  };
  return s satisfies PeerSocket;
}

describe('a client that does not read', () => {
  it('R-PROTO-6: is closed within 32 small frames once more than 16 MiB wait for it', () => {
    const peer = socket();
    const conn = new Connection(peer, 'u', true);
    const small = new Uint8Array(40);
    for (let i = 0; i < 100; i++) conn.send(small);
    expect(peer.sent).toBe(100);
    peer.buffered = MAX_BUFFERED_BYTES + 1;
    for (let i = 0; i < 100 && !conn.closed; i++) conn.send(small);
    expect(conn.closed).toBe(true);
    expect(peer.closedWith).toBe(CLOSE.INTERNAL.code);
    expect(peer.sent - 100).toBeLessThan(32);
  });

  it('R-PROTO-6: a large frame is checked at once', () => {
    const peer = socket();
    const conn = new Connection(peer, 'u', true);
    conn.send(new Uint8Array(10));
    peer.buffered = MAX_BUFFERED_BYTES + 1;
    conn.send(new Uint8Array(64 * 1024));
    expect(conn.closed).toBe(true);
    expect(peer.sent).toBe(1);
  });
});
