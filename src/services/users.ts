import { randomUUID } from 'node:crypto';
import { generatePassword, hashPassword, verifyPassword } from '../crypto/password.js';
import { generateToken, hashToken } from '../crypto/tokens.js';
import type { Actor } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { ChangePasswordInput, LoginInput } from '../schemas/session.js';
import { createSessionRepository } from '../store/repositories/sessions.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import { createUserRepository } from '../store/repositories/users.js';
import type { EventService } from './events.js';
import { createLoginGuard, type LoginGuardOptions } from './login-guard.js';

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
  /**
   * Signs in, within the login limits: per client address, per user name, and a bound on
   * password hashes computed at once (`login_busy` beyond it).
   */
  login(input: LoginInput, client: { readonly address: string }): Promise<Session>;
  resolveSession(token: string): Promise<SessionUser | undefined>;
  logout(token: string): Promise<void>;
  changePassword(actor: Actor, input: ChangePasswordInput): Promise<void>;
  /** Records the failed sign-ins not recorded yet (they are summed up per window). */
  flushLoginFailures(): Promise<void>;
  close(): Promise<void>;
}

export function createUserService(deps: {
  db: Executor;
  clock: Clock;
  events: EventService;
  loginGuard?: Partial<LoginGuardOptions>;
  onEventError?: (error: unknown) => void;
  /** Told after a password change: the composition root deletes the generated-password file. */
  onPasswordChanged?: (username: string) => void;
}): UserService {
  const { db, clock, events } = deps;
  const guard = createLoginGuard({
    clock,
    options: deps.loginGuard,
    onRecordError: deps.onEventError,
    record: (summary) =>
      events.record(db, {
        type: 'session.login_failed',
        actor: { kind: 'system' },
        data: { ...summary },
      }),
  });
  const users = createUserRepository(db);
  const sessions = createSessionRepository(db);
  // Verifying against a fixed hash when the user does not exist keeps timing uniform.
  let dummyHash: Promise<string> | undefined;

  return {
    async bootstrapAdmin(password) {
      if (await users.any()) return { created: false };
      const chosen = password ?? generatePassword();
      const now = clock.now().toISOString();
      await users.insert({
        id: randomUUID(),
        username: ADMIN_USERNAME,
        passwordHash: await hashPassword(chosen),
        createdAt: now,
        updatedAt: now,
      });
      return password === undefined
        ? { created: true, generatedPassword: chosen }
        : { created: true };
    },

    async login({ username, password }, { address }) {
      guard.admit(address, username);
      const user = await users.findByUsername(username);
      const ok = await guard.hash(async () => {
        dummyHash ??= hashPassword(generatePassword());
        return verifyPassword(password, user?.passwordHash ?? (await dummyHash));
      });
      if (!user || !ok) {
        await guard.failed(address, username);
        throw new OutlinkError('invalid_credentials');
      }
      const token = generateToken('ols');
      const csrfToken = generateToken('olc');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
      await sessions.insert({
        idHash: hashToken(token),
        userId: user.id,
        csrfToken,
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
      });
      await sessions.deleteExpired(now.toISOString());
      return { token, csrfToken, expiresAt };
    },

    async resolveSession(token) {
      const found = await sessions.findWithUser(hashToken(token));
      if (!found || found.expiresAt <= clock.now().toISOString()) return undefined;
      return { userId: found.userId, username: found.username, csrfToken: found.csrfToken };
    },

    async logout(token) {
      await sessions.delete(hashToken(token));
    },

    async changePassword(actor, input) {
      if (actor.kind !== 'user') throw new OutlinkError('forbidden');
      const user = await users.findById(actor.id);
      if (!user) throw new Error(`user ${actor.id} does not exist`);
      if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
        throw new OutlinkError('password_incorrect');
      }
      const hash = await hashPassword(input.newPassword);
      await inTransaction(db, async (trx) => {
        await createUserRepository(trx).setPasswordHash(user.id, hash, clock.now().toISOString());
        // Every other session of this user ends with the old password.
        await createSessionRepository(trx).deleteOfUser(user.id);
        await events.record(trx, { type: 'user.password_changed', actor });
      });
      deps.onPasswordChanged?.(user.username);
    },

    flushLoginFailures: () => guard.flush(),
    close: () => guard.close(),
  };
}
