import type { Duplex } from 'node:stream';

/**
 * Holds a socket's writes until the end of the current event-loop turn, so the frames one
 * client receives in a turn leave in one system call. Under load a turn handles many frames
 * and a client gets several of them; each write is a syscall that also pays for the loopback
 * or network delivery, which was the largest single cost of a busy server.
 */
export class TurnCork {
  private readonly held = new Set<Duplex>();
  private scheduled = false;

  hold(socket: Duplex): void {
    if (this.held.has(socket) || socket.destroyed) return;
    socket.cork();
    this.held.add(socket);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.release());
  }

  private release(): void {
    this.scheduled = false;
    for (const socket of this.held) socket.uncork();
    this.held.clear();
  }
}
