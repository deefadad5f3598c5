import type { User } from '@cxr/shared';
import type { FastifyRequest } from 'fastify';
import type { TokenService } from '../auth/tokens.js';
import type { UsersStore } from '../db/users-store.js';
import { ApiError } from './errors.js';

/** Resolves the bearer token to a current, enabled user (role read fresh from the database). */
export function createAuthGuard(tokens: TokenService, users: UsersStore) {
  return async function requireUser(req: FastifyRequest): Promise<User> {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) throw new ApiError(401, 'unauthenticated', 'log in first (Authorization: Bearer <token>)');
    const verified = await tokens.verify(token);
    if (!verified.ok) {
      throw new ApiError(
        401,
        'unauthenticated',
        verified.reason === 'expired' ? 'token expired' : 'invalid token',
      );
    }
    const user = await users.byId(verified.claims.userId);
    if (!user || user.disabled) throw new ApiError(401, 'unauthenticated', 'account missing or disabled');
    return user;
  };
}

export type RequireUser = ReturnType<typeof createAuthGuard>;

export function requireRole(user: User, ...roles: User['role'][]): void {
  if (!roles.includes(user.role)) throw new ApiError(403, 'forbidden', `requires role ${roles.join(' or ')}`);
}
