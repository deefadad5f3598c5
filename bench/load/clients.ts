import { PROTOCOL_VERSION, putFinding } from '@cxr/shared';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { MoveObserver, Recorder, RoomTimes } from './recorder.js';
import {
  type AwarenessEntry,
  EMPTY_STEP1,
  EMPTY_STEP2,
  FINDING_ID,
  MSG_AWARENESS,
  MSG_SYNC,
  type Presence,
  awarenessFrame,
  cursorAt,
  findingFor,
  moveSeqIn,
  readAwareness,
} from './wire.js';

/** 'server': the real server answers sync and relays fresh awareness; 'relay': peers talk directly. */
export type Target = 'server' | 'relay';

export interface BenchClient {
  /** Resolves when the client can take part (synced with the server, or open on the relay). */
  readonly ready: Promise<void>;
  close(): void;
}

export interface Mover {
  sendMove(seq: number): void;
}

export interface CursorMover {
  sendCursor(move: number): void;
}

/** Unexpected closes, for the report (a closed client is a failed run). */
export const closes: string[] = [];

export interface ClientContext {
  readonly target: Target;
  readonly url: string;
  readonly room: RoomTimes;
  readonly recorder: Recorder;
  /** The base of `updatedAt` (move seq = updatedAt - base). */
  readonly base: number;
  /**
   * Told of every close the bench did not ask for; returning true marks it as expected (a lock's
   * 4409), so it is not counted in `closes`.
   */
  readonly onClose?: ((code: number, reason: string) => boolean) | undefined;
}

/**
 * A client that puts the same frames on the wire as a WebsocketProvider and decodes almost
 * nothing: moves and cursor moves are pre-encoded, a received move is found by a byte search,
 * and awareness is parsed only to echo what is new (as y-websocket 3 clients do).
 */
export class LightClient implements BenchClient, Mover, CursorMover {
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private readonly clocks = new Map<number, number>();
  private readonly withState = new Set<number>();
  private closing = false;

  constructor(
    private readonly ctx: ClientContext,
    private readonly ownId: number,
    /** Awareness frames: [0] on open (clock 1), [k + 1] cursor move k (clock k + 2). */
    private readonly awarenessFrames: readonly Buffer[],
    private readonly moveFrames: readonly Buffer[] | undefined,
    private readonly observer: MoveObserver | undefined,
    /** The client id whose cursor this room measures. */
    private readonly cursorId: number,
  ) {
    this.ws = new WebSocket(ctx.url, { perMessageDeflate: false });
    this.clocks.set(ownId, 1);
    this.withState.add(ownId);
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        this.ws.send(EMPTY_STEP1);
        this.ws.send(awarenessFrames[0]!);
        if (ctx.target === 'relay') resolve();
      });
      this.ws.once('error', reject);
      this.ws.on('message', (data: Buffer) => {
        if (data[0] === MSG_SYNC && data[1] === 1) resolve();
        this.onMessage(data);
      });
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (this.closing || ctx.onClose?.(code, reason.toString())) return;
      closes.push(`light client: ${code} ${reason.toString()}`);
    });
  }

  sendMove(seq: number): void {
    this.ws.send(this.moveFrames![seq]!);
  }

  sendCursor(move: number): void {
    this.clocks.set(this.ownId, move + 2);
    this.ws.send(this.awarenessFrames[move + 1]!);
  }

  close(): void {
    this.closing = true;
    this.ws.close();
  }

  private onMessage(data: Buffer): void {
    const type = data[0];
    if (type === MSG_SYNC) {
      const subtype = data[1];
      // Sync step 1 (from the server or a peer): nothing to add, as before any move.
      if (subtype === 0) this.ws.send(EMPTY_STEP2);
      else if (this.observer) {
        const seq = moveSeqIn(data, this.ctx.base);
        if (seq >= 0) this.observer.see(seq, performance.now());
      }
      return;
    }
    if (type === MSG_AWARENESS) this.onAwareness(data);
  }

  /** Applies the y-protocols rule (newer clock, or a removal at the same clock) and echoes what changed. */
  private onAwareness(data: Buffer): void {
    const entries = readAwareness(data);
    const now = performance.now();
    let fresh: AwarenessEntry[] | undefined;
    for (const entry of entries) {
      const [clientId, clock, state] = entry;
      const known = this.clocks.get(clientId) ?? 0;
      const applies = known < clock || (known === clock && state === 'null' && this.withState.has(clientId));
      if (!applies) continue;
      this.clocks.set(clientId, clock);
      if (state === 'null') this.withState.delete(clientId);
      else this.withState.add(clientId);
      if (clientId === this.cursorId && clock >= 2) this.ctx.recorder.cursor(this.ctx.room, clock - 2, now);
      fresh ??= [];
      fresh.push(entry);
    }
    if (!fresh) return;
    this.ws.send(fresh.length === entries.length ? data : awarenessFrame(fresh));
  }
}

/** A real, unmodified WebsocketProvider with its own Y.Doc (as in the server's tests). */
export class FullClient implements BenchClient, Mover, CursorMover {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly ready: Promise<void>;
  private closing = false;

  constructor(
    private readonly ctx: ClientContext,
    roomName: string,
    token: string,
    presence: Presence,
    private readonly userId: string,
    observer: MoveObserver | undefined,
    /** Resolves the cursor client's id (known once every client of the room exists). */
    cursorId: () => number,
    /** The box `sendMove` drags (the room's one box unless each client has its own). */
    private readonly findingId: string = FINDING_ID,
  ) {
    const base = ctx.url.slice(0, ctx.url.indexOf('/yjs/') + 4);
    this.provider = new WebsocketProvider(base, roomName, this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      connect: false,
      params: { token, v: String(PROTOCOL_VERSION) },
    });
    this.provider.awareness.setLocalState(presence);
    if (observer) {
      this.doc.getMap('findings').observe((event) => {
        const now = performance.now();
        for (const key of event.keysChanged) {
          const value = this.doc.getMap('findings').get(key) as { updatedAt?: number } | undefined;
          if (value && typeof value.updatedAt === 'number') observer.see(value.updatedAt - ctx.base, now);
        }
      });
      type Change = { added: number[]; updated: number[] };
      this.provider.awareness.on('update', ({ added, updated }: Change, origin: unknown) => {
        if (origin === 'local') return;
        const now = performance.now();
        const id = cursorId();
        if (!added.includes(id) && !updated.includes(id)) return;
        const clock = this.provider.awareness.meta.get(id)?.clock ?? 0;
        if (clock >= 2) ctx.recorder.cursor(ctx.room, clock - 2, now);
      });
    }
    this.provider.on('connection-close', (event: { code: number; reason: string } | null) => {
      if (this.closing || (event && ctx.onClose?.(event.code, event.reason))) return;
      closes.push(`full client: ${event?.code} ${event?.reason}`);
    });
    this.ready = new Promise((resolve) => {
      const check = () => {
        if (ctx.target === 'server' ? this.provider.synced : this.provider.wsconnected) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    this.provider.connect();
  }

  get clientId(): number {
    return this.doc.clientID;
  }

  sendMove(seq: number): void {
    putFinding(this.doc, findingFor(seq, this.ctx.base, this.userId, this.findingId));
  }

  sendCursor(move: number): void {
    this.provider.awareness.setLocalStateField('cursor', cursorAt(move));
  }

  close(): void {
    this.closing = true;
    this.provider.destroy();
    this.doc.destroy();
  }
}
