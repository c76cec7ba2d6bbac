import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { WEBHOOK_BATCH, WEBHOOK_TIMEOUT_MS, type WebhookService } from '../services/webhooks.js';
import type { Database } from '../store/schema.js';
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

/** The refresh window: a token is never fresh with five minutes or less to go (DESIGN §7). */
const MAX_MARGIN_MS = 5 * 60_000;

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
  options?: Partial<SchedulerOptions>;
}): Scheduler {
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...deps.options };
  const { db, clock, log, tokens } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const dueConnections = async () => {
    const now = clock.now();
    const rows = await db
      .selectFrom('connections')
      .select(['id', 'expires_at', 'last_refreshed_at'])
      .where('status', '!=', 'reauthorization_required')
      .where('refresh_token_enc', 'is not', null)
      .where((eb) => eb.or([eb('retry_at', 'is', null), eb('retry_at', '<=', now.toISOString())]))
      .where((eb) =>
        eb.or([
          eb('expires_at', '<=', new Date(now.getTime() + MAX_MARGIN_MS).toISOString()),
          eb('last_refreshed_at', 'is', null),
          eb(
            'last_refreshed_at',
            '<=',
            new Date(now.getTime() - options.keepAliveMs).toISOString(),
          ),
        ]),
      )
      .orderBy('expires_at')
      .limit(options.batchSize)
      .execute();
    return rows.map((r) => r.id);
  };

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
  const loop = () => {
    timer = undefined;
    running = tick()
      .catch((error: unknown) => log.error({ err: error }, 'scheduler tick failed'))
      .finally(() => {
        running = undefined;
        if (active) timer = setTimeout(loop, options.intervalMs).unref();
      });
  };

  return {
    tick,
    start() {
      if (active) return;
      active = true;
      // A tick still running from before a stop() schedules the next one when it ends:
      // starting another loop now would run two.
      if (!running) timer = setTimeout(loop, 0).unref();
    },
    async stop() {
      active = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
