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
  release(name: string, owner: string): Promise<void>;
  /** Extends a held lease by `ttlMs` from now; false when `owner` no longer holds it. */
  renew(name: string, owner: string, ttlMs: number): Promise<boolean>;
}

/** Leases whose time is the injected clock's. */
export function createLeases(deps: { db: Kysely<Database>; clock: Clock }): Leases {
  const { clock } = deps;
  const rows = createLeasesRepository(deps.db);
  return {
    tryAcquire(name, owner, ttlMs, options) {
      const now = clock.now();
      return rows.tryAcquire(name, owner, now, new Date(now.getTime() + ttlMs), options);
    },
    release: (name, owner) => rows.release(name, owner),
    renew: (name, owner, ttlMs) => rows.renew(name, owner, new Date(clock.now().getTime() + ttlMs)),
  };
}
