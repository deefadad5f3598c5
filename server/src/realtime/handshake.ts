import { PROTOCOL_VERSION, type SocketErrorCode, SocketAuthSchema } from '@cxr/shared';
import type { TokenService } from '../auth/tokens.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { UsersStore } from '../db/users-store.js';
import type { Actor } from './context.js';

export type HandshakeResult =
  | { ok: true; actor: Actor }
  | { ok: false; code: SocketErrorCode; message: string };

/**
 * Who may join a session's channel: its panel (moderator, readers) and admins (observers).
 * The version is checked first so an old client is told why by name, whatever else it sent.
 */
export function createHandshake(tokens: TokenService, users: UsersStore, sessions: SessionsStore) {
  return async (auth: unknown): Promise<HandshakeResult> => {
    const v = typeof auth === 'object' && auth !== null ? Reflect.get(auth, 'v') : undefined;
    if (v !== undefined && v !== PROTOCOL_VERSION) {
      return { ok: false, code: 'version_mismatch', message: `server speaks ${PROTOCOL_VERSION}` };
    }
    const parsed = SocketAuthSchema.safeParse(auth);
    if (!parsed.success) {
      const missingToken = !(
        typeof auth === 'object' &&
        auth !== null &&
        typeof Reflect.get(auth, 'token') === 'string'
      );
      return missingToken
        ? { ok: false, code: 'unauthenticated', message: 'missing token' }
        : { ok: false, code: 'validation_failed', message: 'auth must be {token, v, sessionId}' };
    }
    const verified = await tokens.verify(parsed.data.token);
    if (!verified.ok) {
      return {
        ok: false,
        code: 'unauthenticated',
        message: verified.reason === 'expired' ? 'token expired' : 'invalid token',
      };
    }
    const user = await users.byId(verified.claims.userId);
    if (!user || user.disabled)
      return { ok: false, code: 'unauthenticated', message: 'account missing or disabled' };
    const { sessionId } = parsed.data;
    if (!(await sessions.exists(sessionId)))
      return { ok: false, code: 'not_found', message: 'no such session' };
    const panelRole = await sessions.panelRole(sessionId, user.id);
    if (!panelRole && user.role !== 'admin') {
      return { ok: false, code: 'forbidden', message: 'you are not on this session’s panel' };
    }
    return {
      ok: true,
      actor: {
        userId: user.id,
        username: user.username,
        sessionId,
        role: panelRole ?? 'observer',
        globalRole: user.role,
      },
    };
  };
}
