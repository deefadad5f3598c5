import { CreateUserSchema } from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../auth/passwords.js';
import type { UsersStore } from '../../db/users-store.js';
import { type RequireUser, requireRole } from '../auth-guard.js';
import { ApiError, parseWith } from '../errors.js';
import { passwordProblem } from '../../auth/password-rules.js';

export function userRoutes(app: FastifyInstance, deps: { users: UsersStore; requireUser: RequireUser }) {
  app.post('/api/users', async (req, reply) => {
    requireRole(await deps.requireUser(req), 'admin');
    const body = parseWith(CreateUserSchema, req.body);
    const weak = passwordProblem(body.username, body.password);
    if (weak)
      throw new ApiError(400, 'validation_failed', `password: ${weak}`, [
        { path: 'password', message: weak },
      ]);
    if (await deps.users.byUsername(body.username)) {
      throw new ApiError(409, 'conflict', `username ${body.username} is taken`);
    }
    const user = await deps.users.create({
      username: body.username,
      role: body.role,
      passwordHash: await hashPassword(body.password),
    });
    return reply.status(201).send(user);
  });

  app.get('/api/users', async (req) => {
    requireRole(await deps.requireUser(req), 'admin');
    return { users: await deps.users.list() };
  });
}
