import { randomUUID } from 'node:crypto';
import { type Role, RoleSchema, type User } from '@cxr/shared';
import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from './schema.js';

export interface UserWithHash extends User {
  readonly passwordHash: string;
}

export class UsersStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { username: string; passwordHash: string; role: Role }): Promise<User> {
    const row: UsersTable = {
      id: randomUUID(),
      username: input.username,
      password_hash: input.passwordHash,
      role: input.role,
      disabled: 0,
      created_at: new Date().toISOString(),
    };
    await this.db.insertInto('users').values(row).execute();
    return toUser(row);
  }

  async byUsername(username: string): Promise<UserWithHash | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }

  async byId(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async byIds(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', 'in', [...ids])
      .execute();
    return rows.map(toUser);
  }

  async list(): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .orderBy('created_at')
      .orderBy('username')
      .execute();
    return rows.map(toUser);
  }

  /** Changes a user's role or disabled flag; the updated user, or undefined if there is none. */
  async update(id: string, change: { disabled?: boolean; role?: Role }): Promise<User | undefined> {
    const set = {
      ...(change.disabled !== undefined ? { disabled: change.disabled ? 1 : 0 } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
    };
    if (Object.keys(set).length > 0)
      await this.db.updateTable('users').set(set).where('id', '=', id).execute();
    return this.byId(id);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    role: RoleSchema.parse(row.role),
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}
