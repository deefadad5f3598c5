import { CLOSE, type CloseKey, closeReason } from '@cxr/shared';

/** The little a room needs of a socket; tests and the ws endpoint both provide it. */
export interface PeerSocket {
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** Beyond this much unsent data a client is too slow to follow the room. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Small frames sent between two looks at a connection's unsent data (see `send`). */
const BUFFER_CHECK_EVERY = 32;
const LARGE_FRAME_BYTES = 64 * 1024;

let nextId = 1;

/** One client's connection to one scan document. */
export class Connection {
  readonly id = `c${nextId++}`;
  closed = false;
  lastSentAt = Date.now();
  private framesUntilCheck = 1;
  /**
   * Updates that arrived before what they depend on (a client may send a live edit before
   * its sync step 2 with the offline edits beneath it). Kept merged, unapplied, until the rest
   * arrives; bounded in count, size and time.
   */
  waiting: { update: Uint8Array; count: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly socket: PeerSocket,
    readonly userId: string,
    readonly canWrite: boolean,
  ) {}

  send(frame: Uint8Array): void {
    if (this.closed) return;
    // Reading the socket's buffered amount for every frame cost 2% of a busy server's main
    // thread; small frames (moves, cursors) check it every BUFFER_CHECK_EVERY frames, which
    // bounds a slow client all the same, large ones (document syncs) every time.
    if (frame.byteLength >= LARGE_FRAME_BYTES || --this.framesUntilCheck <= 0) {
      this.framesUntilCheck = BUFFER_CHECK_EVERY;
      if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.close('INTERNAL', 'client too slow to keep up');
        return;
      }
    }
    this.lastSentAt = Date.now();
    this.socket.send(frame);
  }

  close(key: CloseKey, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting) clearTimeout(this.waiting.timer);
    this.waiting = undefined;
    this.socket.close(CLOSE[key].code, closeReason(key, detail));
  }
}
