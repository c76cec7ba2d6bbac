import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.js';
import { createLeasesRepository } from '../store/repositories/leases.js';
import type { Database } from '../store/schema.js';

/**
 * Named leases in the database: at most one holder across every process that shares it
 * (CLI and server, cluster nodes). An expired lease is taken over, so a crashed holder
 * blocks others only until its lease runs out.
 */
export interface Leases {
  /** `reentrant`: taken also when `owner` already holds it (see the repository). */
  tryAcquire(
    name: string,
    owner: string,
    ttlMs: number,
    options?: { reentrant?: boolean },
  ): Promise<boolean>;
  /**
   * Frees the lease. `heldUntil`: the latest expiry the holder set (its take, its renewals).
   * With it, a release the database refused (it is away) still rejects, and is tried again
   * in the background every `LATE_RELEASE_MS` until it succeeds or the lease has run out
   * anyway — so that a holder that was cut off mid-work does not keep every other process
   * waiting for the whole lease time once the database is back. The retry frees only a row
   * expiring by `heldUntil`: a later take by the same owner sets a later expiry, so it is kept.
   */
  release(name: string, owner: string, heldUntil?: Date): Promise<void>;
  /** Extends a held lease by `ttlMs` from now; false when `owner` no longer holds it. */
  renew(name: string, owner: string, ttlMs: number): Promise<boolean>;
}

/** How often a refused release is tried again, and at most how many times. */
export const LATE_RELEASE_MS = 250;
const LATE_RELEASE_ATTEMPTS = 2_400;

/** Leases whose time is the injected clock's. */
export function createLeases(deps: { db: Kysely<Database>; clock: Clock }): Leases {
  const { clock } = deps;
  const rows = createLeasesRepository(deps.db);
  const releaseLate = (name: string, owner: string, heldUntil: Date) => {
    let attempts = 0;
    const attempt = () => {
      // Past its expiry the lease is free for others anyway; a frozen test clock ends by count.
      if (clock.now() > heldUntil || ++attempts > LATE_RELEASE_ATTEMPTS) return;
      rows.release(name, owner, heldUntil).catch(() => {
        setTimeout(attempt, LATE_RELEASE_MS).unref();
      });
    };
    setTimeout(attempt, LATE_RELEASE_MS).unref();
  };
  return {
    tryAcquire(name, owner, ttlMs, options) {
      const now = clock.now();
      return rows.tryAcquire(name, owner, now, new Date(now.getTime() + ttlMs), options);
    },
    async release(name, owner, heldUntil) {
      try {
        await rows.release(name, owner);
      } catch (error) {
        if (heldUntil) releaseLate(name, owner, heldUntil);
        throw error;
      }
    },
    renew: (name, owner, ttlMs) => rows.renew(name, owner, new Date(clock.now().getTime() + ttlMs)),
  };
}
