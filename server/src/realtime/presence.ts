import type { PresenceMember } from '@cxr/shared';
import type { Logger } from 'pino';
import type { PanelCache, PanelInfo } from './context.js';
import type { PresenceEntry, PresenceStore } from './live-store.js';

/**
 * This node's part of presence: its own sockets. It refreshes them in the shared store every
 * heartbeat (a wiped Redis is refilled within one beat) and, after each beat, compares the
 * session's member list with what its sockets last saw, so a crashed node's users drop out
 * within the TTL without anyone telling us. Changes made here are sent to the whole session
 * (every node); changes noticed by the sweep only to this node's sockets (each node sweeps).
 */
type LocalEntry = { -readonly [K in keyof PresenceEntry]: PresenceEntry[K] } & { sessionId: string };

export class PresenceTracker {
  private readonly local = new Map<string, LocalEntry>();
  private readonly lastSent = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly deps: {
      store: PresenceStore;
      panels: PanelCache;
      log: Logger;
      heartbeatMs: number;
      /** `local` sends only to this node's sockets. */
      send: (sessionId: string, members: PresenceMember[], local: boolean) => void;
    },
  ) {
    this.timer = setInterval(() => void this.beat(), deps.heartbeatMs);
    this.timer.unref();
  }

  get(connId: string): PresenceEntry | undefined {
    return this.local.get(connId);
  }

  /**
   * Records a socket's presence. The local copy is what counts: if the shared store is away
   * (Redis restarting) the next heartbeat after it returns writes it, so this never fails.
   */
  async set(sessionId: string, entry: PresenceEntry): Promise<void> {
    const fresh = { ...entry, sessionId, lastSeen: Date.now() };
    this.local.set(entry.connId, fresh);
    await this.shared(sessionId, async () => {
      await this.deps.store.upsert(sessionId, [fresh]);
      await this.publish(sessionId, false);
    });
  }

  /** A socket left; if the store is away its entry simply expires after the TTL. */
  async leave(connId: string): Promise<void> {
    const entry = this.local.get(connId);
    if (!entry) return;
    this.local.delete(connId);
    await this.shared(entry.sessionId, async () => {
      await this.deps.store.remove(entry.sessionId, [connId]);
      await this.publish(entry.sessionId, false);
    });
  }

  private async shared(sessionId: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      // Some sockets missed this change: make the next heartbeat send the list whatever it is.
      this.lastSent.delete(sessionId);
      if (!this.failing)
        this.deps.log.warn({ err: error }, 'presence store unreachable; the heartbeat will catch up');
      this.failing = true;
    }
  }

  /** The session's members as everyone should see them now. */
  async members(sessionId: string): Promise<PresenceMember[]> {
    const [entries, panel] = await Promise.all([
      this.deps.store.list(sessionId, Date.now()),
      this.deps.panels.get(sessionId),
    ]);
    return membersOf(panel, entries);
  }

  async publish(sessionId: string, local: boolean): Promise<void> {
    const members = await this.members(sessionId);
    const signature = JSON.stringify(members.map(({ lastSeen: _, ...m }) => m));
    if (local && this.lastSent.get(sessionId) === signature) return;
    this.lastSent.set(sessionId, signature);
    this.deps.send(sessionId, members, local);
  }

  /** Removes this node's sockets from the shared store (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const bySession = new Map<string, string[]>();
    for (const [connId, entry] of this.local) {
      bySession.set(entry.sessionId, [...(bySession.get(entry.sessionId) ?? []), connId]);
    }
    this.local.clear();
    for (const [sessionId, connIds] of bySession) await this.deps.store.remove(sessionId, connIds);
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    const bySession = new Map<string, PresenceEntry[]>();
    for (const entry of this.local.values()) {
      entry.lastSeen = now;
      bySession.set(entry.sessionId, [...(bySession.get(entry.sessionId) ?? []), entry]);
    }
    try {
      for (const [sessionId, entries] of bySession) {
        await this.deps.store.upsert(sessionId, entries);
        await this.publish(sessionId, true);
      }
      // Sessions whose last local socket left: stop remembering what we sent them.
      for (const sessionId of this.lastSent.keys())
        if (!bySession.has(sessionId)) this.lastSent.delete(sessionId);
      if (this.failing) this.deps.log.info('presence store reachable again');
      this.failing = false;
    } catch (error) {
      this.lastSent.clear();
      // Log the first failure of an outage, not one per beat.
      if (!this.failing) this.deps.log.warn({ err: error }, 'presence heartbeat failed');
      this.failing = true;
    }
  }
}

/**
 * Every panel member (online or not), then observers who are online. A user with several
 * sockets shows the most recently refreshed one's scan and follow state.
 */
export function membersOf(panel: PanelInfo | undefined, entries: readonly PresenceEntry[]): PresenceMember[] {
  const latest = new Map<string, PresenceEntry>();
  for (const entry of entries) {
    const seen = latest.get(entry.userId);
    if (!seen || entry.lastSeen > seen.lastSeen) latest.set(entry.userId, entry);
  }
  const members: PresenceMember[] = [];
  const listed = new Set<string>();
  if (panel) {
    const ids = [panel.session.moderatorId, ...panel.session.readerIds];
    for (const [i, userId] of ids.entries()) {
      const user = panel.users.get(userId);
      const entry = latest.get(userId);
      listed.add(userId);
      members.push({
        userId,
        username: user?.username ?? userId,
        role: i === 0 ? 'moderator' : 'reader',
        globalRole: user?.role ?? 'reader',
        online: entry !== undefined,
        scanId: entry?.scanId ?? null,
        following: entry?.following ?? i > 0,
        lastSeen: entry?.lastSeen ?? 0,
      });
    }
  }
  for (const entry of latest.values()) {
    if (listed.has(entry.userId)) continue;
    members.push({
      userId: entry.userId,
      username: entry.username,
      role: entry.role,
      globalRole: entry.globalRole,
      online: true,
      scanId: entry.scanId,
      following: entry.following,
      lastSeen: entry.lastSeen,
    });
  }
  return members;
}
