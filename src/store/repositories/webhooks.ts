import type { Selectable } from 'kysely';
import { prepare } from '../prepared.js';
import type { WebhookDeliveriesTable } from '../schema.js';
import type { Executor } from './transaction.js';

/** A webhook: where events go, and the secret they are signed with (encrypted). */
export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  readonly secretEnc: string;
  readonly eventTypes: readonly string[];
  readonly createdAt: string;
}

/** A webhook as listed: its secret is not read. */
export type WebhookSummary = Omit<WebhookRecord, 'secretEnc'>;

/** One event on its way to one webhook. */
export interface DeliveryRecord {
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** The JSON body, fixed when the event is recorded. */
  readonly payload: string;
  /** `pending`, `delivered` or `failed` (given up). */
  readonly status: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/** What an attempt leaves behind. */
export type DeliveryAttempt = Pick<
  DeliveryRecord,
  'attempts' | 'status' | 'lastError' | 'nextAttemptAt' | 'deliveredAt'
>;

/** Statements on `webhooks`. */
export interface WebhookRepository {
  insert(webhook: WebhookRecord): Promise<void>;
  /** Oldest first. */
  list(): Promise<WebhookSummary[]>;
  findById(id: string): Promise<WebhookRecord | undefined>;
  /** False when there was no such webhook. */
  delete(id: string): Promise<boolean>;
  /** Every webhook's id and event types, to match an event against. */
  subscriptions(): Promise<Pick<WebhookRecord, 'id' | 'eventTypes'>[]>;
}

/** Statements on `webhook_deliveries`. */
export interface DeliveryRepository {
  insert(delivery: DeliveryRecord): Promise<void>;
  /**
   * Pending deliveries due at `now`, by due time and then by the log order (`seq`) of their
   * events: events of one instant share a due time, and a receiver must see them in the order
   * they happened (authorized before refresh_failed …).
   */
  listDue(now: string, limit: number): Promise<DeliveryRecord[]>;
  recordAttempt(id: string, attempt: DeliveryAttempt): Promise<void>;
  /** Deletes up to `limit` delivered or failed deliveries created before `cutoff`; returns how many. */
  deleteFinishedBefore(cutoff: string, limit: number): Promise<number>;
}

// Read for every event recorded, to match it against the webhooks.
const subscriptions = prepare((db, _: Record<string, never>) =>
  db.selectFrom('webhooks').select(['id', 'event_types']),
);

export function createWebhookRepository(db: Executor): WebhookRepository {
  return {
    async insert(webhook) {
      await db
        .insertInto('webhooks')
        .values({
          id: webhook.id,
          url: webhook.url,
          secret_enc: webhook.secretEnc,
          event_types: JSON.stringify(webhook.eventTypes),
          created_at: webhook.createdAt,
        })
        .execute();
    },
    async list() {
      const rows = await db
        .selectFrom('webhooks')
        .select(['id', 'url', 'event_types', 'created_at'])
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        url: r.url,
        eventTypes: JSON.parse(r.event_types) as string[],
        createdAt: r.created_at,
      }));
    },
    async findById(id) {
      const row = await db
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          url: row.url,
          secretEnc: row.secret_enc,
          eventTypes: JSON.parse(row.event_types) as string[],
          createdAt: row.created_at,
        }
      );
    },
    async delete(id) {
      const result = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async subscriptions() {
      const { rows } = await subscriptions(db, {});
      return rows.map((r) => ({ id: r.id, eventTypes: JSON.parse(r.event_types) as string[] }));
    },
  };
}

export function createDeliveryRepository(db: Executor): DeliveryRepository {
  return {
    async insert(delivery) {
      await db
        .insertInto('webhook_deliveries')
        .values({
          id: delivery.id,
          webhook_id: delivery.webhookId,
          event_id: delivery.eventId,
          event_type: delivery.eventType,
          payload: delivery.payload,
          status: delivery.status,
          attempts: delivery.attempts,
          next_attempt_at: delivery.nextAttemptAt,
          last_error: delivery.lastError,
          created_at: delivery.createdAt,
          delivered_at: delivery.deliveredAt,
        })
        .execute();
    },
    async listDue(now, limit) {
      const rows = await db
        .selectFrom('webhook_deliveries as d')
        .leftJoin('events as e', 'e.id', 'd.event_id')
        .selectAll('d')
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .orderBy('d.next_attempt_at')
        .orderBy('e.seq')
        .limit(limit)
        .execute();
      return rows.map(toDelivery);
    },
    async deleteFinishedBefore(cutoff, limit) {
      // Pending ones stay whatever their age: they are still being sent.
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('status', '!=', 'pending')
            .where('created_at', '<', cutoff)
            .limit(limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async recordAttempt(id, attempt) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          attempts: attempt.attempts,
          status: attempt.status,
          last_error: attempt.lastError,
          next_attempt_at: attempt.nextAttemptAt,
          delivered_at: attempt.deliveredAt,
        })
        .where('id', '=', id)
        .execute();
    },
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}
