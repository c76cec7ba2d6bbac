import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** The `leases` table: one row per named lease, its holder and until when it holds. */
export interface LeasesRepository {
  /**
   * Takes the lease for `owner` until `expiresAt`, unless a holder whose time is not up at
   * `now` has it. True when this call took it. `reentrant`: also when `owner` itself holds it
   * (a lease the scheduler claimed for the refresh it is about to run).
   */
  tryAcquire(
    name: string,
    owner: string,
    now: Date,
    expiresAt: Date,
    options?: { reentrant?: boolean },
  ): Promise<boolean>;
  /** Frees the lease if `owner` still holds it; a late holder never frees a new holder's. */
  release(name: string, owner: string): Promise<void>;
  /** Extends the lease while `owner` still holds it; false when it was lost. */
  renew(name: string, owner: string, expiresAt: Date): Promise<boolean>;
}

/** `db` may be a transaction. */
export function createLeasesRepository(db: Kysely<Database>): LeasesRepository {
  return {
    async tryAcquire(name, owner, now, expiresAt, options = {}) {
      const until = expiresAt.toISOString();
      // One statement, so two processes cannot both see the lease free: the conflict
      // clause takes the row over only when its holder's time is up.
      const result = await db
        .insertInto('leases')
        .values({ name, owner, expires_at: until })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ owner, expires_at: until })
            .where((eb) =>
              options.reentrant
                ? eb.or([
                    eb('leases.expires_at', '<=', now.toISOString()),
                    eb('leases.owner', '=', owner),
                  ])
                : eb('leases.expires_at', '<=', now.toISOString()),
            ),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async renew(name, owner, expiresAt) {
      const result = await db
        .updateTable('leases')
        .set({ expires_at: expiresAt.toISOString() })
        .where('name', '=', name)
        .where('owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async release(name, owner) {
      await db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}
