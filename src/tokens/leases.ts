import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.js';
import type { Database } from '../store/schema.js';

/**
 * Named leases in the database: at most one holder across every process that shares it
 * (CLI and server, cluster nodes). An expired lease is taken over, so a crashed holder
 * blocks others only until its lease runs out.
 */
export interface Leases {
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export function createLeases(deps: { db: Kysely<Database>; clock: Clock }): Leases {
  const { db, clock } = deps;
  return {
    async tryAcquire(name, owner, ttlMs) {
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
      // One statement, so two processes cannot both see the lease free: the conflict
      // clause takes the row over only when its holder's time is up.
      const result = await db
        .insertInto('leases')
        .values({ name, owner, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ owner, expires_at: expiresAt })
            .where('leases.expires_at', '<=', now.toISOString()),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async release(name, owner) {
      await db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}
