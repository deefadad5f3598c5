import type { AccessDecision } from '../collab/ws-endpoint.js';
import type { RoomKey } from '../db/doc-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { TokenService } from './tokens.js';

/**
 * Who may open a scan document: panel members read and write; admins who are not on the
 * panel may watch (read-only); everyone else is refused with a close code that says why.
 */
export function createRoomAccess(tokens: TokenService, users: UsersStore, sessions: SessionsStore) {
  return async (token: string | undefined, room: RoomKey): Promise<AccessDecision> => {
    if (!token) return { ok: false, close: 'UNAUTHENTICATED', detail: 'missing token' };
    const verified = await tokens.verify(token);
    if (!verified.ok) {
      return {
        ok: false,
        close: 'UNAUTHENTICATED',
        detail: verified.reason === 'expired' ? 'token expired' : 'invalid token',
      };
    }
    const user = await users.byId(verified.claims.userId);
    if (!user || user.disabled)
      return { ok: false, close: 'UNAUTHENTICATED', detail: 'account missing or disabled' };
    if (!(await sessions.exists(room.sessionId)))
      return { ok: false, close: 'NOT_FOUND', detail: 'no such session' };
    const panelRole = await sessions.panelRole(room.sessionId, user.id);
    if (!panelRole && user.role !== 'admin') {
      return { ok: false, close: 'FORBIDDEN', detail: 'you are not on this session’s panel' };
    }
    return { ok: true, userId: user.id, canWrite: panelRole !== undefined };
  };
}
