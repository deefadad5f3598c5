import type { CloseKey, ImageSize } from '@cxr/shared';
import type { Logger } from 'pino';
import * as Y from 'yjs';
import type { LoadedDoc, RoomKey } from '../db/doc-store.js';
import { type DocChange, Room } from './room.js';
import { LOAD_ORIGIN } from './origins.js';
import type { UpdateWriter } from './update-writer.js';
import { KEEPALIVE_FRAME } from './frames.js';
import type { Fanout, FanoutKind } from './fanout.js';
import type { CollabMetrics } from './collab-metrics.js';

export interface ScanLookup {
  readonly image: ImageSize;
  readonly panel: readonly string[];
  readonly locked: boolean;
  readonly lockVersion: number;
}

export interface RegistryDeps {
  readonly lookupScan: (room: RoomKey) => Promise<ScanLookup | undefined>;
  readonly loadDoc: (room: RoomKey) => Promise<LoadedDoc>;
  readonly compact: (room: RoomKey) => Promise<unknown>;
  readonly compactWith?:
    | ((room: RoomKey, state: Uint8Array, uptoSeq: number) => Promise<unknown>)
    | undefined;
  readonly writer: UpdateWriter;
  readonly log: Logger;
  readonly idleUnloadMs: number;
  readonly compactAfterUpdates: number;
  readonly dependencyWaitMs: number;
  /** Idle connections get a no-op frame this often, so y-websocket clients do not time out. */
  readonly keepaliveMs: number;
  readonly onChange?: ((room: RoomKey, change: DocChange) => void) | undefined;
  /** Present in multi-node deployments (REDIS_URL). */
  readonly fanout?: Fanout | undefined;
  readonly metrics?: CollabMetrics | undefined;
}

export type AcquireResult = { ok: true; room: Room } | { ok: false; close: CloseKey; detail: string };

/**
 * Loaded rooms by name. A room is loaded once (concurrent joins share the load), kept while
 * anyone uses it, and unloaded after it has been idle for `idleUnloadMs`. A failed load is
 * never cached and never produces an empty document that could be stored over the real one.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<AcquireResult>>();
  private readonly unloadTimers = new Map<Room, NodeJS.Timeout>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly deps: RegistryDeps) {
    this.keepalive = setInterval(() => this.sendKeepalives(), deps.keepaliveMs);
    this.keepalive.unref();
  }

  get loadedCount(): number {
    return this.rooms.size;
  }

  loaded(key: RoomKey): Room | undefined {
    return this.rooms.get(roomName(key));
  }

  /** Gets the room, loading it if needed; the caller holds it until `release`. */
  async acquire(key: RoomKey): Promise<AcquireResult> {
    const name = roomName(key);
    const existing = this.rooms.get(name);
    if (existing) return this.hold(existing);
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(key).finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    const result = await pending;
    return result.ok ? this.hold(result.room) : result;
  }

  release(room: Room): void {
    room.holds = Math.max(0, room.holds - 1);
    if (room.idle) this.scheduleUnload(room);
  }

  /** Every loaded room, for operations over all of them (shutdown). */
  all(): Room[] {
    return [...this.rooms.values()];
  }

  closeAll(key: CloseKey, detail?: string): void {
    for (const room of this.rooms.values()) room.closeAll(key, detail);
  }

  destroy(): void {
    clearInterval(this.keepalive);
    for (const timer of this.unloadTimers.values()) clearTimeout(timer);
    this.unloadTimers.clear();
    for (const room of this.rooms.values()) room.destroy();
    this.rooms.clear();
  }

  /** Drops a room whose memory may differ from the database; its clients reconnect and reload. */
  evict(room: Room): void {
    if (this.rooms.get(room.name) !== room) return;
    this.rooms.delete(room.name);
    this.deps.fanout?.leave(room.name).catch(() => undefined);
    const timer = this.unloadTimers.get(room);
    if (timer) clearTimeout(timer);
    this.unloadTimers.delete(room);
    room.closeAll('RESTARTING', 'document reloaded');
    // Destroyed once nothing uses it any more (a lock in progress may still hold it).
    const destroyWhenIdle = () => (room.idle ? room.destroy() : setTimeout(destroyWhenIdle, 100).unref());
    destroyWhenIdle();
  }

  private hold(room: Room): AcquireResult {
    room.holds++;
    const timer = this.unloadTimers.get(room);
    if (timer) {
      clearTimeout(timer);
      this.unloadTimers.delete(room);
    }
    return { ok: true, room };
  }

  private async load(key: RoomKey): Promise<AcquireResult> {
    const name = roomName(key);
    // Subscribe before reading the database: updates other nodes store meanwhile are held and
    // applied after the load (applying one twice is harmless in Yjs).
    const early: Array<[FanoutKind, Uint8Array]> = [];
    let target: Room | undefined;
    const fanout = this.deps.fanout;
    if (fanout) {
      try {
        await fanout.join(name, (kind, payload) =>
          target ? target.applyRemote(kind, payload) : early.push([kind, payload]),
        );
      } catch (error) {
        this.deps.log.error({ err: error, room: name }, 'subscribing to other nodes failed');
        return { ok: false, close: 'INTERNAL', detail: 'the document could not be loaded' };
      }
    }
    const result = await this.loadFromStore(key, name);
    if (!result.ok) {
      if (fanout) await fanout.leave(name).catch(() => undefined);
      return result;
    }
    target = result.room;
    for (const [kind, payload] of early.splice(0)) target.applyRemote(kind, payload);
    return result;
  }

  private async loadFromStore(key: RoomKey, name: string): Promise<AcquireResult> {
    let scan: ScanLookup | undefined;
    let loaded: LoadedDoc;
    try {
      scan = await this.deps.lookupScan(key);
      if (!scan) return { ok: false, close: 'NOT_FOUND', detail: 'no such scan in this session' };
      loaded = await this.deps.loadDoc(key);
    } catch (error) {
      this.deps.log.error({ err: error, room: name }, 'loading a scan document failed');
      return { ok: false, close: 'INTERNAL', detail: 'the document could not be loaded' };
    }
    const doc = new Y.Doc();
    try {
      doc.transact(() => {
        if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
        for (const update of loaded.updates) Y.applyUpdate(doc, update);
      }, LOAD_ORIGIN);
    } catch (error) {
      doc.destroy();
      this.deps.log.error({ err: error, room: name }, 'a stored scan document is unreadable');
      return { ok: false, close: 'INTERNAL', detail: 'the stored document is unreadable' };
    }
    const room = new Room(
      key,
      {
        doc,
        image: scan.image,
        panel: scan.panel,
        locked: scan.locked,
        lockVersion: scan.lockVersion,
        lastSeq: loaded.lastSeq,
        logLength: loaded.logLength,
      },
      {
        writer: this.deps.writer,
        compact: this.deps.compact,
        // With other nodes writing too, only the database knows the whole log.
        compactWith: this.deps.fanout ? undefined : this.deps.compactWith,
        compactAfterUpdates: this.deps.compactAfterUpdates,
        dependencyWaitMs: this.deps.dependencyWaitMs,
        log: this.deps.log,
        onIdle: (r) => this.scheduleUnload(r),
        onStale: (r) => this.evict(r),
        publish: this.deps.fanout
          ? (r, kind, payload) => this.deps.fanout?.publish(r.name, kind, payload)
          : undefined,
        onChange: (r, change) => this.deps.onChange?.(r.key, change),
        metrics: this.deps.metrics,
      },
    );
    this.rooms.set(name, room);
    return { ok: true, room };
  }

  private scheduleUnload(room: Room): void {
    if (this.unloadTimers.has(room) || this.rooms.get(room.name) !== room) return;
    const timer = setTimeout(() => {
      this.unloadTimers.delete(room);
      if (!room.idle) return;
      this.rooms.delete(room.name);
      room.destroy();
      this.deps.fanout?.leave(room.name).catch(() => undefined);
    }, this.deps.idleUnloadMs);
    timer.unref();
    this.unloadTimers.set(room, timer);
  }

  private sendKeepalives(): void {
    const before = Date.now() - this.deps.keepaliveMs;
    for (const room of this.rooms.values()) {
      for (const conn of room.conns) if (conn.lastSentAt < before) conn.send(KEEPALIVE_FRAME);
    }
  }
}

export function roomName(key: RoomKey): string {
  return `${key.sessionId}/${key.scanId}`;
}
