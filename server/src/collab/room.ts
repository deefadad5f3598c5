import { type CloseKey, type ImageSize, readMeta } from '@cxr/shared';
import type { Logger } from 'pino';
import * as Y from 'yjs';
import type { RoomKey } from '../db/doc-store.js';
import { AwarenessRelay, REMOTE_OWNER } from './awareness-relay.js';
import type { Connection } from './connection.js';
import {
  type IncomingFrame,
  awarenessFrame,
  syncStep1Frame,
  syncStep2Frame,
  syncUpdateFrame,
} from './frames.js';
import type { FanoutKind } from './fanout.js';
import { UpdateGuard } from './guard.js';
import { REMOTE_ORIGIN, SERVER_ORIGIN, STORED_SERVER_ORIGIN } from './origins.js';
import type { UpdateWriter } from './update-writer.js';
import type { CollabMetrics } from './collab-metrics.js';

/** Bounds on updates held for missing dependencies, per connection. */
const MAX_WAITING_UPDATES = 256;
const MAX_WAITING_BYTES = 4 * 1024 * 1024;

export interface RoomDeps {
  readonly writer: UpdateWriter;
  /** Folds the stored log into a snapshot by merging what the database holds (any node). */
  readonly compact: (room: RoomKey) => Promise<unknown>;
  /**
   * Single node: the snapshot is this room's own state, which holds exactly the updates up to
   * `uptoSeq` when nothing is in flight; cheaper than reading and merging the log.
   */
  readonly compactWith?:
    | ((room: RoomKey, state: Uint8Array, uptoSeq: number) => Promise<unknown>)
    | undefined;
  readonly compactAfterUpdates: number;
  /** How long an update may wait for the changes it depends on before the client must resync. */
  readonly dependencyWaitMs: number;
  readonly log: Logger;
  /** Called when the last connection leaves (the registry decides when to unload). */
  readonly onIdle: (room: Room) => void;
  /**
   * Called when memory no longer matches the database (an edit was refused at storage because
   * another node locked the scan): the registry drops the room and clients reload it.
   */
  readonly onStale: (room: Room) => void;
  /** Called after stored changes to findings or global labels are broadcast (votes listen). */
  readonly onChange?: ((room: Room, change: DocChange) => void) | undefined;
  /** Sends what this node stored to the other nodes (multi-node deployments). */
  readonly publish?: ((room: Room, kind: FanoutKind, payload: Uint8Array) => void) | undefined;
  readonly metrics?: CollabMetrics | undefined;
}

/** Keys of `findings` and `globals` whose values changed. */
export interface DocChange {
  readonly findings: readonly string[];
  readonly globals: readonly string[];
}

export interface RoomState {
  readonly doc: Y.Doc;
  readonly image: ImageSize;
  /** The session's moderator and readers: the only people a finding can be attributed to. */
  readonly panel: readonly string[];
  readonly locked: boolean;
  readonly lockVersion: number;
  readonly lastSeq: number;
  readonly logLength: number;
}

/**
 * One scan document and the connections reading it. Every accepted update is guarded,
 * applied, stored and only then broadcast (in acceptance order); a refused one closes its
 * sender's connection and touches nothing else.
 */
export class Room {
  readonly name: string;
  readonly doc: Y.Doc;
  readonly image: ImageSize;
  readonly conns = new Set<Connection>();
  readonly awareness = new AwarenessRelay();
  locked: boolean;
  lockVersion: number;
  /** Holders other than connections (a lock in progress) that keep the room loaded. */
  holds = 0;
  private readonly guard: UpdateGuard;
  private inflight = 0;
  private lastSeq: number;
  private logLength: number;
  private compacting = false;
  private readonly compactThreshold: number;
  private durable: Promise<void> = Promise.resolve();
  private changedFindings = new Set<string>();
  private changedGlobals = new Set<string>();

  constructor(
    readonly key: RoomKey,
    state: RoomState,
    private readonly deps: RoomDeps,
  ) {
    this.name = `${key.sessionId}/${key.scanId}`;
    this.doc = state.doc;
    this.image = state.image;
    this.locked = state.locked;
    this.lockVersion = state.lockVersion;
    this.lastSeq = state.lastSeq;
    this.logLength = state.logLength;
    this.guard = new UpdateGuard(this.doc, this.image, state.panel);
    this.compactThreshold = Math.round(deps.compactAfterUpdates * (1 + Math.random() * 0.5));
    this.doc.getMap('findings').observe((event) => {
      for (const key of event.keysChanged) this.changedFindings.add(key);
    });
    this.doc.getMap('globals').observe((event) => {
      for (const key of event.keysChanged) this.changedGlobals.add(key);
    });
  }

  get idle(): boolean {
    return this.conns.size === 0 && this.holds === 0 && this.inflight === 0;
  }

  join(conn: Connection): void {
    this.conns.add(conn);
    conn.send(syncStep1Frame(Y.encodeStateVector(this.doc)));
    const states = this.awareness.snapshot();
    if (states) conn.send(awarenessFrame(states));
  }

  leave(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    const removal = this.awareness.release(conn);
    if (removal) {
      this.broadcast(awarenessFrame(removal), conn);
      this.deps.publish?.(this, 'awareness', removal);
    }
    if (this.idle) this.deps.onIdle(this);
  }

  handle(conn: Connection, frame: IncomingFrame): void {
    switch (frame.kind) {
      case 'sync-step1': {
        // Answer once everything accepted so far is stored: no one reads what could be lost.
        const stateVector = frame.stateVector;
        void this.durable.then(() => {
          try {
            conn.send(syncStep2Frame(Y.encodeStateAsUpdate(this.doc, stateVector)));
          } catch {
            conn.close('INVALID_UPDATE', 'malformed state vector');
          }
        });
        return;
      }
      case 'update': {
        let update = frame.update;
        if (conn.waiting) {
          try {
            update = Y.mergeUpdates([conn.waiting.update, frame.update]);
          } catch {
            // Merging decodes both updates: malformed content must close this connection, not
            // escape into the socket's event handler (where it would end the process).
            this.refuse(conn, 'INVALID_UPDATE', 'update could not be decoded');
            return;
          }
        }
        const verdict = this.guard.check(update, conn, this.locked);
        if (!verdict.ok) {
          if (verdict.close === 'RESYNC' && this.wait(conn, update)) return;
          this.refuse(conn, verdict.close, verdict.detail);
          return;
        }
        if (conn.waiting) {
          clearTimeout(conn.waiting.timer);
          conn.waiting = undefined;
        }
        if (!verdict.changed) return;
        const store = this.doc.store;
        if (store.pendingStructs !== null || store.pendingDs !== null) {
          // Another node's update waits here for what this one may bring: store and broadcast
          // everything that comes in with it, as the document encodes it.
          this.capturing(conn, () => Y.applyUpdate(this.doc, update, conn));
          return;
        }
        Y.applyUpdate(this.doc, update, conn);
        // Stored and broadcast as the client sent it, not re-encoded: listening to the
        // document's 'update' event made Yjs encode every applied update a second time.
        this.onDocUpdate(update, conn);
        return;
      }
      case 'awareness': {
        let relay: Uint8Array | undefined;
        try {
          relay = this.awareness.receive(frame.update, conn, conn.userId);
        } catch {
          this.refuse(conn, 'INVALID_UPDATE', 'malformed awareness update');
          return;
        }
        if (relay) {
          this.broadcast(awarenessFrame(relay), conn);
          this.deps.publish?.(this, 'awareness', relay);
        }
        return;
      }
      case 'query-awareness': {
        const states = this.awareness.snapshot();
        if (states) conn.send(awarenessFrame(states));
        return;
      }
      default: {
        const never: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(never)}`);
      }
    }
  }

  /** Resolves once every update accepted so far is stored (and broadcast). */
  whenDurable(): Promise<void> {
    return this.durable;
  }

  /**
   * Builds a server-side change on a copy of the document and returns its update, without
   * touching the room: the caller stores it, then hands it to `applyStored`.
   */
  prepareServerUpdate(change: (doc: Y.Doc) => void): Uint8Array {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(this.doc));
    let captured: Uint8Array | undefined;
    copy.on('update', (update: Uint8Array) => {
      captured = captured ? Y.mergeUpdates([captured, update]) : update;
    });
    copy.transact(() => change(copy));
    copy.destroy();
    return captured ?? new Uint8Array([0, 0]);
  }

  /**
   * A change made by the server itself (decisions): applied, stored and then broadcast like any
   * accepted update. Resolves once stored.
   */
  async applyServerChange(change: (doc: Y.Doc) => void): Promise<void> {
    this.capturing(SERVER_ORIGIN, () => this.doc.transact(() => change(this.doc), SERVER_ORIGIN));
    await this.durable;
  }

  /**
   * Applies what another node sent: a document update it stored (broadcast here, never stored
   * again) or an awareness update it already checked (relayed to this node's clients).
   */
  applyRemote(kind: FanoutKind, payload: Uint8Array): void {
    if (kind === 'update') {
      this.capturing(REMOTE_ORIGIN, () => Y.applyUpdate(this.doc, payload, REMOTE_ORIGIN));
      return;
    }
    const relay = this.awareness.receiveChecked(payload, REMOTE_OWNER);
    if (relay) this.broadcast(awarenessFrame(relay), undefined);
  }

  /** Applies a server change that is already stored, and broadcasts it. */
  applyStored(update: Uint8Array): void {
    this.capturing(STORED_SERVER_ORIGIN, () => Y.applyUpdate(this.doc, update, STORED_SERVER_ORIGIN));
  }

  /**
   * Runs a change and hands what it changed (as Yjs encodes it; nothing when nothing changed)
   * to onDocUpdate: server changes, other nodes' updates, and client updates that complete
   * another node's pending one.
   */
  private capturing(origin: unknown, run: () => void): void {
    const changes: Uint8Array[] = [];
    const capture = (update: Uint8Array) => changes.push(update);
    this.doc.on('update', capture);
    try {
      run();
    } finally {
      this.doc.off('update', capture);
    }
    for (const update of changes) this.onDocUpdate(update, origin);
  }

  /** Closes every connection (shutdown, unload, access revoked). */
  closeAll(key: CloseKey, detail?: string): void {
    for (const conn of [...this.conns]) {
      conn.close(key, detail);
      this.leave(conn);
    }
  }

  destroy(): void {
    this.doc.destroy();
  }

  /** Holds an update whose dependencies have not arrived yet; false when over the bounds. */
  private wait(conn: Connection, update: Uint8Array): boolean {
    const count = (conn.waiting?.count ?? 0) + 1;
    if (count > MAX_WAITING_UPDATES || update.byteLength > MAX_WAITING_BYTES) return false;
    if (conn.waiting) clearTimeout(conn.waiting.timer);
    const timer = setTimeout(() => {
      if (conn.waiting) this.refuse(conn, 'RESYNC', 'update depends on changes that never arrived');
    }, this.deps.dependencyWaitMs);
    timer.unref();
    conn.waiting = { update, count, timer };
    return true;
  }

  private refuse(conn: Connection, key: CloseKey, detail: string): void {
    this.deps.metrics?.updateRefused(key);
    this.deps.log.warn(
      { room: this.name, conn: conn.id, user: conn.userId, close: key, detail },
      'update refused',
    );
    conn.close(key, detail);
    this.leave(conn);
  }

  private onDocUpdate(update: Uint8Array, origin: unknown): void {
    if (origin === REMOTE_ORIGIN) {
      // Another node's lock or unlock reaches this node's copy as a meta change.
      const meta = readMeta(this.doc);
      this.locked = meta.locked;
      this.lockVersion = Math.max(this.lockVersion, meta.consensusVersion);
      const frame = syncUpdateFrame(update);
      this.durable = this.durable.then(() => {
        this.broadcast(frame, undefined);
        this.reportChanges();
      });
      return;
    }
    if (origin === STORED_SERVER_ORIGIN) {
      const frame = syncUpdateFrame(update);
      this.durable = this.durable.then(() => {
        this.broadcast(frame, undefined);
        this.deps.publish?.(this, 'update', update);
      });
      return;
    }
    const sender = this.senderOf(origin);
    const receivedAt = performance.now();
    this.inflight++;
    const stored = this.deps.writer.write({ room: this.key, data: update, userId: sender?.userId ?? null });
    this.durable = stored.then((seq) => {
      this.inflight--;
      if (seq === 'locked') {
        this.refusedAtStorage(sender);
        return;
      }
      this.lastSeq = seq;
      this.logLength++;
      this.deps.metrics?.updateAccepted();
      this.broadcast(syncUpdateFrame(update), sender);
      this.deps.metrics?.broadcastLatency((performance.now() - receivedAt) / 1000);
      this.deps.publish?.(this, 'update', update);
      this.reportChanges();
      this.maybeCompact();
      if (this.idle) this.deps.onIdle(this);
    });
  }

  private reportChanges(): void {
    if (this.changedFindings.size === 0 && this.changedGlobals.size === 0) return;
    const change = { findings: [...this.changedFindings], globals: [...this.changedGlobals] };
    this.changedFindings = new Set();
    this.changedGlobals = new Set();
    this.deps.onChange?.(this, change);
  }

  private senderOf(origin: unknown): Connection | undefined {
    for (const conn of this.conns) if (conn === origin) return conn;
    return undefined;
  }

  private broadcast(frame: Uint8Array, except: Connection | undefined): void {
    for (const conn of this.conns) if (conn !== except) conn.send(frame);
  }

  private refusedAtStorage(sender: Connection | undefined): void {
    this.locked = true;
    this.deps.log.warn({ room: this.name }, 'edit refused at storage: locked elsewhere; reloading the room');
    if (sender) this.refuse(sender, 'LOCKED', 'the consensus was locked');
    this.deps.onStale(this);
  }

  private maybeCompact(): void {
    // Rooms started together would all compact at once; a per-room jitter spreads them out.
    if (this.compacting || this.logLength < this.compactThreshold) return;
    const covered = this.logLength;
    const compactWith = this.deps.compactWith;
    const single = compactWith !== undefined && this.inflight === 0;
    const work = single
      ? compactWith(this.key, Y.encodeStateAsUpdate(this.doc), this.lastSeq)
      : this.deps.compact(this.key);
    this.compacting = true;
    work
      .then(() => {
        this.logLength = Math.max(0, this.logLength - covered);
      })
      .catch((error: unknown) =>
        this.deps.log.error({ err: error, room: this.name }, 'compaction failed; log kept'),
      )
      .finally(() => {
        this.compacting = false;
      });
  }
}
