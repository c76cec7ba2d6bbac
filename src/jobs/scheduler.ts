import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { WEBHOOK_BATCH, WEBHOOK_TIMEOUT_MS, type WebhookService } from '../services/webhooks.js';
import { createConnectionTokensRepository } from '../store/repositories/connection-tokens.js';
import type { Database } from '../store/schema.js';
import { MAX_REFRESH_MARGIN_MS } from '../tokens/freshness.js';
import type { Leases } from '../tokens/leases.js';
import type { TokenService } from '../tokens/token-service.js';

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
  readonly webhookDeliveries: number;
}

export interface Scheduler {
  /** One pass: refresh what is due, deliver due webhooks. Tests call it directly. */
  tick(): Promise<TickResult>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Runs `run` once after `ms` unless the returned cancel is called first. `run`'s promise is
 * the tick it started, for a timer that wants to wait for it (tests firing ticks themselves).
 */
export type Timer = (ms: number, run: () => Promise<void>) => () => void;

/**
 * A real timer: the loop must be cancellable by `stop()` and must not keep the process alive
 * on its own (unref), which a clock or a sleep cannot express.
 */
export const systemTimer: Timer = (ms, run) => {
  const timer = setTimeout(() => void run(), ms).unref();
  return () => clearTimeout(timer);
};

/**
 * The delivery lease outlasts a whole batch against endpoints that never answer, so another
 * process cannot take it over and send the same deliveries a second time.
 */
const WEBHOOK_LEASE_MS = WEBHOOK_BATCH * WEBHOOK_TIMEOUT_MS + 60_000;

/**
 * The job loop. Its state is the database (expiry, last refresh, retry time, delivery rows),
 * so a restart loses nothing; leases keep two processes from doing the same work at once.
 */
export function createScheduler(deps: {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  tokens: TokenService;
  webhooks: WebhookService;
  leases: Leases;
  owner: string;
  /** Schedules the background ticks; tests pass one they fire themselves. */
  timer?: Timer;
  options?: Partial<SchedulerOptions>;
}): Scheduler {
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...deps.options };
  const { clock, log, tokens } = deps;
  const timer = deps.timer ?? systemTimer;
  const connections = createConnectionTokensRepository(deps.db);
  let cancel: (() => void) | undefined;
  let running: Promise<void> | undefined;

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
    const ids = await dueConnections();
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
    let webhookDeliveries = 0;
    if (await deps.leases.tryAcquire('webhook-delivery', deps.owner, WEBHOOK_LEASE_MS)) {
      try {
        webhookDeliveries = await deps.webhooks.deliverDue();
      } finally {
        await deps.leases.release('webhook-delivery', deps.owner);
      }
    }
    return { due: ids.length, refreshed, failed, webhookDeliveries };
  };

  let active = false;
  const loop = (): Promise<void> => {
    cancel = undefined;
    const current = tick()
      .then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, 'scheduler tick failed'),
      )
      .finally(() => {
        running = undefined;
        if (active) cancel = timer(options.intervalMs, loop);
      });
    running = current;
    return current;
  };

  return {
    tick,
    start() {
      if (active) return;
      active = true;
      // A tick still running from before a stop() schedules the next one when it ends:
      // starting another loop now would run two.
      if (!running) cancel = timer(0, loop);
    },
    async stop() {
      active = false;
      cancel?.();
      cancel = undefined;
      await running;
    },
  };
}
