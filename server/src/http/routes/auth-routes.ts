import { LoginRequestSchema } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import type { UsersStore } from '../../db/users-store.js';
import type { RequireUser } from '../auth-guard.js';
import { ApiError, parseWith } from '../errors.js';
import type { LoginThrottle } from '../../ops/login-throttle.js';

export function authRoutes(
  app: FastifyInstance,
  deps: { users: UsersStore; tokens: TokenService; requireUser: RequireUser; throttle?: LoginThrottle },
) {
  app.post('/api/auth/login', async (req, reply) => {
    const body = parseWith(LoginRequestSchema, req.body);
    const throttled = deps.throttle?.check(body.username, req.ip);
    if (throttled && !throttled.ok) {
      void reply.header('retry-after', String(throttled.retryAfterS));
      throw new ApiError(
        429,
        'rate_limited',
        `too many failed log-ins for this ${throttled.scope}; try again in ${throttled.retryAfterS} s`,
      );
    }
    const found = await deps.users.byUsername(body.username);
    // Verify against a dummy hash for unknown users so response time does not reveal them.
    const valid = await verifyPassword(body.password, found?.passwordHash ?? (await DUMMY_HASH_PROMISE()));
    if (!found || !valid || found.disabled) {
      deps.throttle?.failed(body.username, req.ip);
      throw new ApiError(401, 'invalid_credentials', 'wrong username or password');
    }
    deps.throttle?.succeeded(body.username);
    const { passwordHash: _omit, ...user } = found;
    const token = await deps.tokens.sign({ userId: user.id, role: user.role });
    return { token, user };
  });

  app.get('/api/me', async (req) => ({ user: await deps.requireUser(req) }));
}
