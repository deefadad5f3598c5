import type { Logger } from 'pino';
import { hashPassword } from './auth/passwords.js';
import type { Stores } from './db/stores.js';

/** Creates the first admin from ADMIN_USERNAME / ADMIN_PASSWORD when the user table is empty. */
export async function ensureFirstAdmin(
  stores: Stores,
  admin: { username: string | undefined; password: string | undefined; quiet?: boolean },
  log: Logger,
): Promise<void> {
  if ((await stores.users.count()) > 0) return;
  if (!admin.username || !admin.password) {
    if (admin.quiet) return;
    log.warn('no users yet: set ADMIN_USERNAME and ADMIN_PASSWORD to create the first admin');
    return;
  }
  await stores.users.create({
    username: admin.username,
    role: 'admin',
    passwordHash: await hashPassword(admin.password),
  });
  log.info({ username: admin.username }, 'first admin created');
}
