import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { isOutlinkError } from '../domain/errors.js';
import { createConnectionTokensRepository } from '../store/repositories/connection-tokens.js';
import type { Database } from '../store/schema.js';
import { MAX_REFRESH_MARGIN_MS } from '../tokens/freshness.js';
import type { Leases } from '../tokens/leases.js';
import type { TokenService } from '../tokens/token-service.js';
import { createJobLoop, systemTimer, type Timer } from './loop.js';
import type { Retention } from './retention.js';

export interface SchedulerOptions {
  readonly intervalMs: number;
  /** Refreshes running at once. */
  readonly concurrency: number;
  /** Connections looked at per tick. */
  readonly batchSize: number;
  /** Refresh every connection at least this often, even when idle (DESIGN §7). */
  readonly keepAliveMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  // Short enough that a dead node's due refreshes move soon after its leases run out.
  intervalMs: 10_000,
  concurrency: 8,
  batchSize: 500,
  keepAliveMs: 24 * 60 * 60_000,
};

export interface TickResult {
  readonly due: number;
  readonly refreshed: number;
  readonly failed: number;
}

export interface Scheduler {
  /** One pass: refresh what is due, then prune old records if due. Tests call it directly. */
  tick(): Promise<TickResult>;
  start(): void;
  stop(): Promise<void>;
  /** True while started (`/readyz` reports it). */
  running(): boolean;
}

export { systemTimer, type Timer };

/**
 * The token job loop. Its state is the database (expiry, last refresh, retry time), so a
 * restart loses nothing; leases keep two processes from refreshing one connection at once.
 * Webhooks are delivered by a loop of their own (webhook-dispatcher.ts), so a slow receiver
 * never holds up a refresh.
 */
export function createScheduler(deps: {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  tokens: TokenService;
  leases: Leases;
  owner: string;
  /** Whether the database answers; a tick is skipped while it does not (issue 14). */
  ready?: () => Promise<boolean>;
  /** PostgreSQL: claim due rows with `FOR UPDATE SKIP LOCKED` (SQLite has one writer). */
  skipLocked?: boolean;
  /** Prunes old records after the refreshes, when due (hourly across the cluster). */
  retention?: Retention;
  /** Schedules the background ticks; tests pass one they fire themselves. */
  timer?: Timer;
  options?: Partial<SchedulerOptions>;
}): Scheduler {
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...deps.options };
  const { clock, log, tokens } = deps;
  const connections = createConnectionTokensRepository(deps.db);

  // Every token whose margin may have begun: the largest margin there is (DESIGN §7); the
  // token service then judges each by its own. Claimed under the token service's own lease
  // owner, so that its refresh uses the claimed lease (and frees it with the new tokens), and
  // other nodes' ticks take other rows (issue 14: work spread without a leader).
  const dueConnections = async () => {
    const now = clock.now();
    const claim = {
      until: new Date(now.getTime() + tokens.leaseTtlMs),
      stamp: tokens.claimStamp(),
    };
    const rows = await connections.claimDue({
      now,
      marginMs: MAX_REFRESH_MARGIN_MS,
      keepAliveMs: options.keepAliveMs,
      limit: options.batchSize,
      owner: tokens.owner,
      leaseUntil: claim.until,
      skipLocked: deps.skipLocked ?? false,
    });
    return { rows, claim };
  };

  const tick = async (): Promise<TickResult> => {
    if (deps.ready && !(await deps.ready())) return { due: 0, refreshed: 0, failed: 0 };
    const { rows, claim } = await dueConnections();
    let refreshed = 0;
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        const id = row.id;
        let outcome: Awaited<ReturnType<TokenService['refreshIfDue']>> | undefined;
        let keepClaim = false;
        try {
          // The claim spares the refresh taking the lease again and reading the row it read
          // (issue 12: one commit each, shared with the refreshes that end with it).
          outcome = await tokens.refreshIfDue(id, options.keepAliveMs, { ...claim, row });
          if (outcome === 'refreshed') refreshed++;
          if (outcome === 'failed') failed++;
        } catch (error) {
          failed++;
          // The database refused the new tokens (or they are still being written): the lease
          // stays with them until their late write lands (issue 14).
          keepClaim = isOutlinkError(error) && error.code === 'database_unavailable';
          log.warn({ connectionId: id, err: error }, 'scheduled refresh failed');
        } finally {
          // A claim the refresh did not use (the token was fresh after all, or it failed)
          // goes at once. A refresh made here freed the claim with the tokens it stored.
          if (outcome !== 'refreshed' && !keepClaim)
            await deps.leases.release(`refresh:${id}`, tokens.owner).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, rows.length) }, worker));
    try {
      await deps.retention?.pruneIfDue();
    } catch (error) {
      log.warn({ err: error }, 'pruning old records failed');
    }
    return { due: rows.length, refreshed, failed };
  };

  const loop = createJobLoop({
    tick,
    timer: deps.timer ?? systemTimer,
    intervalMs: options.intervalMs,
    log,
    name: 'scheduler',
  });
  return { tick, start: loop.start, stop: loop.stop, running: loop.running };
}
