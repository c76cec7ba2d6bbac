import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { WebhookService } from '../services/webhooks.js';
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
          if ((await tokens.refreshIfDue(id, options.keepAliveMs)) === 'refreshed') refreshed++;
        } catch (error) {
          failed++;
          log.warn({ connectionId: id, err: error }, 'scheduled refresh failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, worker));
    let webhookDeliveries = 0;
    if (await deps.leases.tryAcquire('webhook-delivery', deps.owner, 5 * 60_000)) {
      try {
        webhookDeliveries = await deps.webhooks.deliverDue();
      } finally {
        await deps.leases.release('webhook-delivery', deps.owner);
      }
    }
    return { due: ids.length, refreshed, failed, webhookDeliveries };
  };

  const loop = () => {
    running = tick()
      .catch((error: unknown) => log.error({ err: error }, 'scheduler tick failed'))
      .finally(() => {
        running = undefined;
        if (timer) timer = setTimeout(loop, options.intervalMs).unref();
      });
  };

  return {
    tick,
    start() {
      if (timer) return;
      timer = setTimeout(loop, 0).unref();
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await running;
    },
  };
}
