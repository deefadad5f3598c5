import { LoginRequestSchema } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import type { UsersStore } from '../../db/users-store.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, parseWith } from '../errors.js';

export function authRoutes(
  app: FastifyInstance,
  deps: { users: UsersStore; tokens: TokenService; requireUser: RequireUser },
) {
  app.post('/api/auth/login', async (req) => {
    const body = parseWith(LoginRequestSchema, req.body);
    const found = await deps.users.byUsername(body.username);
    // Verify against a dummy hash for unknown users so response time does not reveal them.
    const valid = await verifyPassword(body.password, found?.passwordHash ?? (await DUMMY_HASH_PROMISE()));
    if (!found || !valid || found.disabled) {
      throw new ApiError(401, 'invalid_credentials', 'wrong username or password');
    }
    const { passwordHash: _omit, ...user } = found;
    const token = await deps.tokens.sign({ userId: user.id, role: user.role });
    return { token, user };
  });

  app.get('/api/me', async (req) => ({ user: await deps.requireUser(req) }));
}
