import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { generatePassword, hashPassword, verifyPassword } from '../crypto/password.js';
import { generateToken, hashToken } from '../crypto/tokens.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { ChangePasswordInput, LoginInput } from '../schemas/session.js';
import type { Database } from '../store/schema.js';
import type { EventService } from './events.js';

export const ADMIN_USERNAME = 'admin';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  readonly token: string;
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

export interface SessionUser {
  readonly userId: string;
  readonly username: string;
  readonly csrfToken: string;
}

export interface UserService {
  /**
   * Creates user `admin` on an empty database. Returns the password when it was generated
   * (to be shown once), `undefined` when given or when an admin already exists.
   */
  bootstrapAdmin(
    password: string | undefined,
  ): Promise<{ generatedPassword?: string; created: boolean }>;
  login(input: LoginInput): Promise<Session>;
  resolveSession(token: string): Promise<SessionUser | undefined>;
  logout(token: string): Promise<void>;
  changePassword(actor: Actor, input: ChangePasswordInput): Promise<void>;
}

export function createUserService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  events: EventService;
}): UserService {
  const { db, clock, events } = deps;
  // Verifying against a fixed hash when the user does not exist keeps timing uniform.
  let dummyHash: Promise<string> | undefined;

  return {
    async bootstrapAdmin(password) {
      const existing = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
      if (existing) return { created: false };
      const chosen = password ?? generatePassword();
      const now = clock.now().toISOString();
      await db
        .insertInto('users')
        .values({
          id: randomUUID(),
          username: ADMIN_USERNAME,
          password_hash: await hashPassword(chosen),
          created_at: now,
          updated_at: now,
        })
        .execute();
      return password === undefined
        ? { created: true, generatedPassword: chosen }
        : { created: true };
    },

    async login({ username, password }) {
      const user = await db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      dummyHash ??= hashPassword(generatePassword());
      const ok = await verifyPassword(password, user?.password_hash ?? (await dummyHash));
      if (!user || !ok) {
        await events.record(db, {
          type: 'session.login_failed',
          actor: { kind: 'system' },
          data: { username: username.slice(0, 100) },
        });
        throw new OutlinkError('invalid_credentials');
      }
      const token = generateToken('ols');
      const csrfToken = generateToken('olc');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
      await db
        .insertInto('sessions')
        .values({
          id_hash: hashToken(token),
          user_id: user.id,
          csrf_token: csrfToken,
          created_at: now.toISOString(),
          expires_at: expiresAt.toISOString(),
        })
        .execute();
      await db.deleteFrom('sessions').where('expires_at', '<', now.toISOString()).execute();
      return { token, csrfToken, expiresAt };
    },

    async resolveSession(token) {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'users.id as userId',
          'users.username',
          'sessions.csrf_token',
          'sessions.expires_at',
        ])
        .where('sessions.id_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!row || row.expires_at <= clock.now().toISOString()) return undefined;
      return { userId: row.userId, username: row.username, csrfToken: row.csrf_token };
    },

    async logout(token) {
      await db.deleteFrom('sessions').where('id_hash', '=', hashToken(token)).execute();
    },

    async changePassword(actor, input) {
      if (actor.kind !== 'user') throw new OutlinkError('forbidden');
      const user = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', actor.id)
        .executeTakeFirstOrThrow();
      if (!(await verifyPassword(input.currentPassword, user.password_hash))) {
        throw new OutlinkError('password_incorrect');
      }
      const hash = await hashPassword(input.newPassword);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ password_hash: hash, updated_at: clock.now().toISOString() })
          .where('id', '=', user.id)
          .execute();
        // Every other session of this user ends with the old password.
        await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
        await events.record(trx, { type: 'user.password_changed', actor });
      });
    },
  };
}
