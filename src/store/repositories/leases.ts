import { prepare } from '../prepared.js';
import type { Executor } from './transaction.js';

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

interface TakeValues {
  name: string;
  owner: string;
  until: string;
  now: string;
}

/**
 * Takes the row over only when its holder's time is up (or, reentrant, when `owner` holds
 * it). One statement, so two processes cannot both see the lease free. Prepared: every
 * refresh takes and frees a lease (issue 12).
 */
const takeStatement = (reentrant: boolean) =>
  prepare((db, v: TakeValues) =>
    db
      .insertInto('leases')
      .values({ name: v.name, owner: v.owner, expires_at: v.until })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner: v.owner, expires_at: v.until })
          .where((eb) =>
            reentrant
              ? eb.or([eb('leases.expires_at', '<=', v.now), eb('leases.owner', '=', v.owner)])
              : eb('leases.expires_at', '<=', v.now),
          ),
      ),
  );
const take = takeStatement(false);
const takeReentrant = takeStatement(true);

const renewStatement = prepare((db, v: { name: string; owner: string; until: string }) =>
  db
    .updateTable('leases')
    .set({ expires_at: v.until })
    .where('name', '=', v.name)
    .where('owner', '=', v.owner),
);

const releaseStatement = prepare((db, v: { name: string; owner: string }) =>
  db.deleteFrom('leases').where('name', '=', v.name).where('owner', '=', v.owner),
);

/** `db` may be a transaction. */
export function createLeasesRepository(db: Executor): LeasesRepository {
  return {
    async tryAcquire(name, owner, now, expiresAt, options = {}) {
      const statement = options.reentrant ? takeReentrant : take;
      const result = await statement(db, {
        name,
        owner,
        until: expiresAt.toISOString(),
        now: now.toISOString(),
      });
      return Number(result.numAffectedRows ?? 0) > 0;
    },
    async renew(name, owner, expiresAt) {
      const result = await renewStatement(db, { name, owner, until: expiresAt.toISOString() });
      return Number(result.numAffectedRows ?? 0) > 0;
    },
    async release(name, owner) {
      await releaseStatement(db, { name, owner });
    },
  };
}
