import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { createConnectionTokensRepository } from '../store/repositories/connection-tokens.js';
import type { Database } from '../store/schema.js';
import { isFresh, MAX_REFRESH_MARGIN_MS } from '../tokens/freshness.js';
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
  intervalMs: 30_000,
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
  // token service then judges each by its own.
  const dueConnections = () =>
    connections.listDue({
      now: clock.now(),
      marginMs: MAX_REFRESH_MARGIN_MS,
      keepAliveMs: options.keepAliveMs,
      limit: options.batchSize,
    });

  const tick = async (): Promise<TickResult> => {
    const now = clock.now();
    // The query takes the largest margin; a token whose own margin has not begun (one that
    // lives 20 minutes has a 2-minute margin) is left alone without reading its row.
    const due = (await dueConnections()).filter(
      (row) =>
        !isFresh(row, now) ||
        row.last_refreshed_at === null ||
        now.getTime() - Date.parse(row.last_refreshed_at) >= options.keepAliveMs,
    );
    // Issue 14: every node of a cluster lists the same due connections; each walks them in
    // an order of its own, so that the nodes take different ones instead of queueing for the
    // same leases (each connection is still refreshed once: the lease decides).
    const ids = shuffled(due.map((row) => row.id));
    let refreshed = 0;
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        try {
          const outcome = await tokens.refreshIfDue(id, options.keepAliveMs);
          if (outcome === 'refreshed') refreshed++;
          if (outcome === 'failed') failed++;
        } catch (error) {
          failed++;
          log.warn({ connectionId: id, err: error }, 'scheduled refresh failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, worker));
    try {
      await deps.retention?.pruneIfDue();
    } catch (error) {
      log.warn({ err: error }, 'pruning old records failed');
    }
    return { due: ids.length, refreshed, failed };
  };

  const loop = createJobLoop({
    tick,
    timer: deps.timer ?? systemTimer,
    intervalMs: options.intervalMs,
    log,
    name: 'scheduler',
  });
  return { tick, start: loop.start, stop: loop.stop };
}

/** A copy of `items` in random order (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
