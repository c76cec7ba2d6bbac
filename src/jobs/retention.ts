import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RetentionSettings } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import { createAuthorizationFlowRepository } from '../store/repositories/authorization-flows.js';
import { createEventRepository } from '../store/repositories/events.js';
import { createDeliveryRepository } from '../store/repositories/webhooks.js';
import type { Database } from '../store/schema.js';
import type { Leases } from '../tokens/leases.js';

/** How many rows of each kind one pass deleted. */
export interface PruneResult {
  readonly events: number;
  readonly webhookDeliveries: number;
  readonly authorizationFlows: number;
}

export interface Retention {
  /** Prunes when no process has in the last `everyMs`; undefined when it was not due. */
  pruneIfDue(): Promise<PruneResult | undefined>;
  /** Prunes now. */
  prune(): Promise<PruneResult>;
}

/** Pruning is cheap but not free: once an hour, across every process sharing the database. */
export const PRUNE_EVERY_MS = 60 * 60_000;
/** Rows per delete statement, so that no statement holds the database for long. */
const BATCH = 1_000;
const DAY_MS = 24 * 60 * 60_000;
const LEASE = 'retention';

/**
 * Deletes what is older than the retention settings: events, finished webhook deliveries and
 * finished authorization flows (`0` days keeps a kind forever). The lease doubles as the
 * time of the last pass: taken for `everyMs` and never released, it lets one process in the
 * whole cluster prune once per period.
 */
export function createRetention(deps: {
  db: Kysely<Database>;
  clock: Clock;
  leases: Leases;
  owner: string;
  log: Logger;
  settings: RetentionSettings;
  everyMs?: number;
}): Retention {
  const { db, clock, settings } = deps;
  const cutoff = (days: number) => new Date(clock.now().getTime() - days * DAY_MS).toISOString();
  /** Runs `one` batch after batch until a batch comes back short. */
  const drain = async (days: number, one: (cutoff: string, limit: number) => Promise<number>) => {
    if (days === 0) return 0;
    const before = cutoff(days);
    let total = 0;
    for (;;) {
      const deleted = await one(before, BATCH);
      total += deleted;
      if (deleted < BATCH) return total;
    }
  };

  const prune = async (): Promise<PruneResult> => {
    const result = {
      events: await drain(settings.eventsDays, createEventRepository(db).deleteBefore),
      webhookDeliveries: await drain(
        settings.webhookDeliveriesDays,
        createDeliveryRepository(db).deleteFinishedBefore,
      ),
      authorizationFlows: await drain(
        settings.authorizationFlowsDays,
        createAuthorizationFlowRepository(db).deleteFinishedBefore,
      ),
    };
    if (result.events + result.webhookDeliveries + result.authorizationFlows > 0) {
      deps.log.info({ pruned: result }, 'old records pruned');
    }
    return result;
  };

  return {
    prune,
    async pruneIfDue() {
      const due = await deps.leases.tryAcquire(LEASE, deps.owner, deps.everyMs ?? PRUNE_EVERY_MS);
      return due ? prune() : undefined;
    },
  };
}
