import type { Logger } from 'pino';
import { WEBHOOK_TIMEOUT_MS, type WebhookService } from '../services/webhooks.js';
import type { Leases } from '../tokens/leases.js';
import { createJobLoop, systemTimer, type Timer } from './loop.js';

export interface WebhookDispatcherOptions {
  /** Pause between two passes over the queue. */
  readonly intervalMs: number;
  /** Deliveries in flight at once (each to a different webhook). */
  readonly concurrency: number;
  /** Deliveries looked at per pass. */
  readonly batchSize: number;
  /** Each attempt's timeout. */
  readonly timeoutMs: number;
}

export const DEFAULT_WEBHOOK_DISPATCHER_OPTIONS: WebhookDispatcherOptions = {
  intervalMs: 2_000,
  concurrency: 4,
  batchSize: 50,
  timeoutMs: WEBHOOK_TIMEOUT_MS,
};

export interface WebhookDispatcher {
  /** One pass: sends what is due; returns how many attempts it made. Tests call it directly. */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

const LEASE = 'webhook-delivery';

/**
 * Webhook deliveries on their own loop, apart from the token scheduler: a receiver that is
 * slow or never answers delays other deliveries at most by its timeout and never a token
 * refresh. The queue is the `webhook_deliveries` table (retries and backoff are recorded
 * there), so a restart loses nothing; a lease keeps one process at a time sending, which
 * keeps each receiver's deliveries in event order.
 */
export function createWebhookDispatcher(deps: {
  webhooks: WebhookService;
  leases: Leases;
  owner: string;
  log: Logger;
  /** Schedules the background passes; tests pass one they fire themselves. */
  timer?: Timer;
  options?: Partial<WebhookDispatcherOptions>;
}): WebhookDispatcher {
  const options = { ...DEFAULT_WEBHOOK_DISPATCHER_OPTIONS, ...deps.options };
  // The lease outlasts a whole pass, even one webhook's whole batch sent one by one at the
  // edge of the timeout, so another process cannot take it over and send the same
  // deliveries a second time.
  const leaseMs = options.batchSize * options.timeoutMs + 60_000;

  const tick = async (): Promise<number> => {
    if (!(await deps.leases.tryAcquire(LEASE, deps.owner, leaseMs))) return 0;
    try {
      return await deps.webhooks.deliverDue({
        limit: options.batchSize,
        concurrency: options.concurrency,
      });
    } finally {
      await deps.leases.release(LEASE, deps.owner);
    }
  };
  const loop = createJobLoop({
    tick,
    timer: deps.timer ?? systemTimer,
    intervalMs: options.intervalMs,
    log: deps.log,
    name: 'webhook delivery',
  });
  return { tick, start: loop.start, stop: loop.stop };
}
