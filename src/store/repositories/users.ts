import type { Selectable } from 'kysely';
import type { UsersTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** A user of the admin UI and API (today: `admin`). */
export interface UserRecord {
  readonly id: string;
  readonly username: string;
  /** `scrypt$…`, see `crypto/password.ts`. */
  readonly passwordHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Statements on `users`. */
export interface UserRepository {
  /** True when the table holds any user. */
  any(): Promise<boolean>;
  insert(user: UserRecord): Promise<void>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  setPasswordHash(id: string, passwordHash: string, updatedAt: string): Promise<void>;
}

export function createUserRepository(db: Executor): UserRepository {
  return {
    async any() {
      return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
    },
    async insert(user) {
      await db
        .insertInto('users')
        .values({
          id: user.id,
          username: user.username,
          password_hash: user.passwordHash,
          created_at: user.createdAt,
          updated_at: user.updatedAt,
        })
        .execute();
    },
    async findByUsername(username) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async findById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async setPasswordHash(id, passwordHash, updatedAt) {
      await db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: updatedAt })
        .where('id', '=', id)
        .execute();
    },
  };
}

function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
