import { PROTOCOL_VERSION, readMeta } from '@cxr/shared';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { type ConnectionStatus, type Refusal, classifyClose, deriveStatus } from './status.js';

/**
 * One scan document for one user: the Y.Doc, its offline copy in IndexedDB and its
 * y-websocket connection. When the server refuses something this doc sent (4422, 4403, 4409),
 * the local copy is thrown away (IndexedDB cleared) and a fresh doc resyncs from the server,
 * once; a second refusal before that resync completes stops the connection, so a poisoned
 * state is never resent in a loop.
 */

export interface ScanRoom {
  readonly sessionId: string;
  readonly scanId: string;
  readonly token: string;
  readonly userId: string;
  /** `ws(s)://host/yjs`; the provider appends `/<session>/<scan>?token=..&v=..`. */
  readonly wsBase: string;
}

export interface Presence {
  readonly user: { readonly id: string; readonly name: string; readonly color: string };
  readonly cursor: { readonly x: number; readonly y: number } | null;
}

export interface ConnectionSnapshot {
  /** Changes whenever the doc is replaced after a refusal; consumers rebuild their stores. */
  readonly generation: number;
  readonly doc: Y.Doc;
  readonly status: ConnectionStatus;
  /** The local copy (IndexedDB) has been loaded into the doc. */
  readonly loaded: boolean;
}

export function defaultWsBase(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/yjs`;
}

/** IndexedDB name per user and room, so two users of one browser never share a local copy. */
export function localDbName(room: Pick<ScanRoom, 'userId' | 'sessionId' | 'scanId'>): string {
  return `cxr:${room.userId}:${room.sessionId}/${room.scanId}`;
}

export class ScanConnection {
  private generation = 0;
  private doc!: Y.Doc;
  private provider: WebsocketProvider | undefined;
  private persistence: IndexeddbPersistence | undefined;
  private loaded = false;
  private everSynced = false;
  private attemptFailed = false;
  private refusal: Refusal | undefined;
  /** A discard happened and no sync has completed since: a second refusal stops. */
  private resyncPending = false;
  private disposed = false;
  private snapshot!: ConnectionSnapshot;
  private readonly listeners = new Set<() => void>();
  private localPresence: Presence | undefined;
  private readonly onOnline = () => this.emit();
  private readonly onMeta = () => this.emit();

  constructor(private readonly room: ScanRoom) {
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOnline);
    this.open();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ConnectionSnapshot => this.snapshot;

  get awareness() {
    return this.provider?.awareness;
  }

  /** Sets this user's presence (name, colour) and cursor in image pixels. */
  setPresence(presence: Presence): void {
    this.localPresence = presence;
    const awareness = this.provider?.awareness;
    if (!awareness) return;
    awareness.setLocalStateField('user', presence.user);
    awareness.setLocalStateField('cursor', presence.cursor);
  }

  /** Tries again after a stop (for example after logging in again with a new token). */
  retry(): void {
    this.refusal = undefined;
    this.resyncPending = false;
    if (this.provider) {
      this.provider.shouldConnect = true;
      this.provider.connect();
    }
    this.emit();
  }

  dismissRefusal(): void {
    if (this.refusal && !this.refusal.stopped) {
      this.refusal = undefined;
      this.emit();
    }
  }

  dispose(): void {
    this.disposed = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOnline);
    this.teardown();
    this.listeners.clear();
  }

  private open(): void {
    this.generation++;
    const generation = this.generation;
    const doc = new Y.Doc();
    this.doc = doc;
    this.loaded = false;
    this.everSynced = false;
    this.attemptFailed = false;
    doc.getMap('meta').observe(this.onMeta);
    const persistence = new IndexeddbPersistence(localDbName(this.room), doc);
    this.persistence = persistence;
    // Connect only once the offline copy is in the doc, so sync step 2 carries the offline
    // edits in one go rather than racing the IndexedDB load.
    const provider = new WebsocketProvider(
      this.room.wsBase,
      `${this.room.sessionId}/${this.room.scanId}`,
      doc,
      {
        connect: false,
        params: { token: this.room.token, v: String(PROTOCOL_VERSION) },
        // Same-origin tabs would otherwise exchange updates without the server's guard.
        disableBc: true,
        maxBackoffTime: 2500,
        shouldReconnect: (event) => classifyClose(event.code).kind === 'retry',
      },
    );
    this.provider = provider;
    provider.on('status', () => this.emit());
    provider.on('sync', (synced: boolean) => {
      if (synced) {
        this.everSynced = true;
        this.resyncPending = false;
      }
      this.emit();
    });
    provider.on('connection-close', (event) => {
      if (!event || generation !== this.generation) return;
      this.onServerClose(event.code, event.reason);
    });
    if (this.localPresence) this.setPresence(this.localPresence);
    persistence.whenSynced.then(
      () => {
        if (generation !== this.generation || this.disposed) return;
        this.loaded = true;
        provider.connect();
        this.emit();
      },
      () => {
        // No IndexedDB (private mode): work online only.
        if (generation !== this.generation || this.disposed) return;
        this.loaded = true;
        provider.connect();
        this.emit();
      },
    );
    this.emit();
  }

  private onServerClose(code: number, reason: string): void {
    const action = classifyClose(code);
    switch (action.kind) {
      case 'retry':
        this.attemptFailed = true;
        this.emit();
        return;
      case 'stop':
        this.refusal = { code, reason, discarded: false, stopped: true };
        if (this.provider) this.provider.shouldConnect = false;
        this.emit();
        return;
      case 'discard-and-resync': {
        const stop = this.resyncPending;
        this.refusal = { code, reason, discarded: true, stopped: stop };
        if (stop) {
          if (this.provider) this.provider.shouldConnect = false;
          this.emit();
          return;
        }
        this.resyncPending = true;
        void this.discardAndReopen();
        return;
      }
      default: {
        const never: never = action;
        throw new Error(`unhandled close action ${JSON.stringify(never)}`);
      }
    }
  }

  /** Drops the local copy (memory and IndexedDB) and starts again from the server's state. */
  private async discardAndReopen(): Promise<void> {
    const persistence = this.persistence;
    this.teardown(false);
    try {
      await persistence?.clearData();
    } catch {
      // The database may already be gone; a fresh doc is what matters.
    }
    if (this.disposed) return;
    this.open();
  }

  private teardown(destroyPersistence = true): void {
    this.doc?.getMap('meta').unobserve(this.onMeta);
    if (this.provider) {
      this.provider.shouldConnect = false;
      this.provider.awareness.setLocalState(null);
      this.provider.destroy();
    }
    this.provider = undefined;
    if (destroyPersistence) void this.persistence?.destroy();
    this.persistence = undefined;
    this.doc?.destroy();
  }

  private emit(): void {
    const provider = this.provider;
    const locked = this.doc ? readMeta(this.doc).locked : false;
    const status = deriveStatus({
      connected: provider?.wsconnected ?? false,
      synced: provider?.synced ?? false,
      everSynced: this.everSynced,
      attemptFailed: this.attemptFailed,
      browserOnline: navigator.onLine,
      locked,
      refusal: this.refusal,
    });
    this.snapshot = { generation: this.generation, doc: this.doc, status, loaded: this.loaded };
    for (const listener of this.listeners) listener();
  }
}
