import type { CompiledQuery } from 'kysely';
import { changeProbeOf } from '../change-probe.js';
import { prepare } from '../prepared.js';
import type { CacheEpochsTable } from '../schema.js';
import type { Executor } from './transaction.js';

/**
 * The in-process caches whose entries a write in any process can make stale: `api_tokens`
 * (verified API tokens), `access_tokens` (fresh connection rows, and the link views, which
 * show a link and its connections: every write to a link or a connection bumps it).
 */
export type CacheName = CacheEpochsTable['name'];

/** Statements on `cache_epochs` (migration 0007). */
export interface CacheEpochRepository {
  /**
   * The cache's counter, as text (PostgreSQL's bigint arrives as a string). Every request
   * that uses a cache asks: one primary-key read, compiled once, skipped while the database's
   * change probe sees no commit since the last one. Undefined when the row is missing: then
   * nothing may be cached.
   */
  current(): Promise<string | undefined>;
}

/** Reads the counter of one cache; the query is compiled once, here. */
export function createCacheEpochRepository(db: Executor, name: CacheName): CacheEpochRepository {
  const query: CompiledQuery<Pick<CacheEpochsTable, 'epoch'>> = db
    .selectFrom('cache_epochs')
    .select('epoch')
    .where('name', '=', name)
    .compile();
  const read = unlessUnchanged(db, async () => {
    const { rows } = await db.executeQuery(query);
    return rows[0] === undefined ? undefined : String(rows[0].epoch);
  });
  return { current: read };
}

/** Every cache's counter as one read saw them; a cache whose row is missing is absent. */
export type CacheEpochSnapshot = Readonly<Partial<Record<CacheName, string>>>;

/**
 * Issue 12: the counters of every cache in one statement, compiled once — the token route
 * needs two (the API token's and the access token's) and reads them together.
 */
export function createCacheEpochSnapshotReader(db: Executor): EpochReader<CacheEpochSnapshot> {
  const query: CompiledQuery<Pick<CacheEpochsTable, 'name' | 'epoch'>> = db
    .selectFrom('cache_epochs')
    .select(['name', 'epoch'])
    .compile();
  return unlessUnchanged(db, async () => {
    const { rows } = await db.executeQuery(query);
    const snapshot: Partial<Record<CacheName, string>> = {};
    for (const row of rows) snapshot[row.name] = String(row.epoch);
    return snapshot;
  });
}

/**
 * A read of cache counters; `peek` gives, without waiting, what the read would give from its
 * last result, or undefined when it would have to ask the database (always, without a probe).
 */
export type EpochReader<T> = (() => Promise<T>) & { peek(): T | undefined };

/**
 * `read`, answered from its last result while the database's change probe says nothing was
 * committed since that result's look (no probe: every call reads). The probe is asked before
 * the read, so a result is at least as new as the version it is kept under; a commit after
 * the look moves the version and the next call reads again.
 */
function unlessUnchanged<T>(db: Executor, read: () => Promise<T>): EpochReader<T> {
  const probe = changeProbeOf(db);
  if (!probe) return Object.assign(read, { peek: () => undefined });
  let kept: { version: number; value: T } | undefined;
  // Callers at the same version share one read: after a commit, the requests arriving before
  // the first read returns (1,000 callers of a refreshed token) cost one statement.
  let running: { version: number; value: Promise<T> } | undefined;
  const peek = () => {
    const version = probe.version();
    return kept && kept.version === version ? kept.value : undefined;
  };
  return Object.assign(
    () => {
      const version = probe.version();
      if (kept && kept.version === version) return Promise.resolve(kept.value);
      if (running && running.version === version) return running.value;
      const value = read().then(
        (result) => {
          if (running?.value === value) running = undefined;
          kept = { version, value: result };
          return result;
        },
        (error: unknown) => {
          if (running?.value === value) running = undefined;
          throw error;
        },
      );
      running = { version, value };
      return value;
    },
    { peek },
  );
}

// Every token write bumps a counter (issue 12: prepared).
const bumpStatement = prepare((db, v: { name: CacheName }) =>
  db
    .updateTable('cache_epochs')
    .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
    .where('name', '=', v.name),
);

/**
 * Makes every process drop its `name` cache at its next request. Called by the repositories
 * after each write that changes what the cache holds, in the writer's transaction when it
 * has one, so no path can forget it.
 */
export async function bumpCacheEpoch(db: Executor, name: CacheName): Promise<void> {
  await bumpStatement(db, { name });
}
