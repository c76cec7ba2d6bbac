import type { Executor } from './transaction.js';

/** A signed-in browser session; the cookie's value is stored only as its hash. */
export interface SessionRecord {
  readonly idHash: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** A session with the user it belongs to, as a request is authenticated by it. */
export interface SessionOfUser {
  readonly userId: string;
  readonly username: string;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** Statements on `sessions`. */
export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  /** The session and its user in one round trip (every cookie-authenticated request). */
  findWithUser(idHash: string): Promise<SessionOfUser | undefined>;
  delete(idHash: string): Promise<void>;
  deleteOfUser(userId: string): Promise<void>;
  /** Removes sessions that expired before `now` (ISO-8601). */
  deleteExpired(now: string): Promise<void>;
}

export function createSessionRepository(db: Executor): SessionRepository {
  return {
    async insert(session) {
      await db
        .insertInto('sessions')
        .values({
          id_hash: session.idHash,
          user_id: session.userId,
          csrf_token: session.csrfToken,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
        })
        .execute();
    },
    async findWithUser(idHash) {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'users.id as userId',
          'users.username',
          'sessions.csrf_token',
          'sessions.expires_at',
        ])
        .where('sessions.id_hash', '=', idHash)
        .executeTakeFirst();
      return (
        row && {
          userId: row.userId,
          username: row.username,
          csrfToken: row.csrf_token,
          expiresAt: row.expires_at,
        }
      );
    },
    async delete(idHash) {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
    async deleteOfUser(userId) {
      await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
    },
    async deleteExpired(now) {
      await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    },
  };
}
