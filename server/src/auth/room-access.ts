import { readingRoom } from '../collab/blind-stage.js';
import type { AccessDecision, RoomRequest } from '../collab/ws-endpoint.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { TokenService } from './tokens.js';

/**
 * Who may open a scan document: panel members read and write; admins who are not on the
 * panel may watch (read-only); everyone else is refused with a close code that says why.
 * Blind sessions: during the blind stage each reader opens only their own reading
 * (`/reading`); the shared document is closed to readers and read-only for the moderator;
 * nobody else opens a reading, ever.
 */
export function createRoomAccess(tokens: TokenService, users: UsersStore, sessions: SessionsStore) {
  return async (token: string | undefined, room: RoomRequest): Promise<AccessDecision> => {
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
    const stage = await sessions.stage(room.sessionId);
    if (!stage) return { ok: false, close: 'NOT_FOUND', detail: 'no such session' };
    const panelRole = await sessions.panelRole(room.sessionId, user.id);
    const blindStage = stage.mode === 'blind' && stage.stage === 'blind';
    if (room.reading) {
      if (stage.mode !== 'blind') {
        return { ok: false, close: 'NOT_FOUND', detail: 'this session has no blind readings' };
      }
      if (panelRole !== 'reader') {
        return { ok: false, close: 'FORBIDDEN', detail: 'blind readings are open to their reader only' };
      }
      // After the reveal a reading is frozen: the room is locked (4409 on any change).
      return {
        ok: true,
        userId: user.id,
        canWrite: true,
        room: readingRoom(room.sessionId, room.scanId, user.id),
      };
    }
    if (!panelRole && user.role !== 'admin') {
      return { ok: false, close: 'FORBIDDEN', detail: 'you are not on this session’s panel' };
    }
    if (blindStage && panelRole === 'reader') {
      return { ok: false, close: 'FORBIDDEN', detail: 'blind stage: read your own copy until the reveal' };
    }
    const canWrite = panelRole !== undefined && !blindStage;
    return { ok: true, userId: user.id, canWrite, room: { sessionId: room.sessionId, scanId: room.scanId } };
  };
}
