import { CLOSE, type CloseKey, closeReason } from '@cxr/shared';

/** The little a room needs of a socket; tests and the ws endpoint both provide it. */
export interface PeerSocket {
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** Beyond this much unsent data a client is too slow to follow the room. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

let nextId = 1;

/** One client's connection to one scan document. */
export class Connection {
  readonly id = `c${nextId++}`;
  closed = false;
  lastSentAt = Date.now();

  constructor(
    readonly socket: PeerSocket,
    readonly userId: string,
    readonly canWrite: boolean,
  ) {}

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close('INTERNAL', 'client too slow to keep up');
      return;
    }
    this.lastSentAt = Date.now();
    this.socket.send(frame);
  }

  close(key: CloseKey, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(CLOSE[key].code, closeReason(key, detail));
  }
}
