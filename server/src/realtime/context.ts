import type { ServerToClientEvents, Session } from '@cxr/shared';
import type { Logger } from 'pino';
import type { ScanDocPort } from '../collab/scan-doc-port.js';
import type { AuditBatcher, AuditStore } from '../db/audit-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { VotesStore } from '../db/votes-store.js';
import { type LiveResult, forbidden, refuse } from './errors.js';
import type { LiveStores } from './live-store.js';

/** Who sent a command, fixed at the handshake (never taken from a payload). */
export interface Actor {
  readonly userId: string;
  readonly username: string;
  readonly sessionId: string;
  readonly role: 'moderator' | 'reader' | 'observer';
  readonly globalRole: 'admin' | 'moderator' | 'reader';
}

/** Sends a typed event to everyone in a session, on every node. */
export type EmitToSession = <E extends keyof ServerToClientEvents>(
  sessionId: string,
  event: E,
  ...args: Parameters<ServerToClientEvents[E]>
) => void;

/** What the realtime services share; built once per server in index.ts. */
export interface LiveContext {
  readonly live: LiveStores;
  readonly votes: VotesStore;
  readonly audit: AuditStore;
  readonly auditBatcher: AuditBatcher;
  readonly sessions: SessionsStore;
  readonly users: UsersStore;
  readonly scanDocs: ScanDocPort;
  readonly emit: EmitToSession;
  readonly log: Logger;
  readonly panels: PanelCache;
}

export const requireModerator = (actor: Actor): LiveResult<true> =>
  actor.role === 'moderator'
    ? { ok: true, value: true }
    : forbidden('only the session’s moderator may do this');

/** The scan must belong to the actor's session; `unlocked` also refuses a locked scan. */
export async function checkScan(
  ctx: LiveContext,
  actor: Actor,
  scanId: string,
  options: { unlocked?: boolean } = {},
): Promise<LiveResult<true>> {
  const state = await ctx.sessions.scanState(actor.sessionId, scanId);
  if (!state) return refuse('not_found', 'no such scan in this session');
  if (options.unlocked && state.locked) return refuse('locked', 'the scan is locked');
  return { ok: true, value: true };
}

/**
 * Panels do not change after a session is created, so each node keeps them (with their
 * members' names) instead of asking the database on every heartbeat.
 */
export class PanelCache {
  private readonly cache = new Map<string, Promise<PanelInfo | undefined>>();
  constructor(
    private readonly sessions: SessionsStore,
    private readonly users: UsersStore,
  ) {}

  get(sessionId: string): Promise<PanelInfo | undefined> {
    let hit = this.cache.get(sessionId);
    if (!hit) {
      hit = this.load(sessionId);
      this.cache.set(sessionId, hit);
      // A failed load must not stick.
      hit.catch(() => this.cache.delete(sessionId));
    }
    return hit;
  }

  /** Drops a session's cached panel after it changed (a reader removed). */
  forget(sessionId: string): void {
    this.cache.delete(sessionId);
  }

  private async load(sessionId: string): Promise<PanelInfo | undefined> {
    const session = await this.sessions.get(sessionId);
    if (!session) {
      this.cache.delete(sessionId);
      return undefined;
    }
    const users = await this.users.byIds([session.moderatorId, ...session.readerIds]);
    return { session, users: new Map(users.map((u) => [u.id, { username: u.username, role: u.role }])) };
  }
}

export interface PanelInfo {
  readonly session: Session;
  readonly users: ReadonlyMap<string, { username: string; role: 'admin' | 'moderator' | 'reader' }>;
}

/** Strict majority of the panel's readers (at least 1). */
export function defaultQuorum(readers: number): number {
  return Math.max(1, Math.floor(readers / 2) + 1);
}
