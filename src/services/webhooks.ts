import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { Actor } from '../domain/actor.js';
import {
  type AddressPolicy,
  assertUrlAllowed,
  createAddressPolicy,
} from '../domain/address-policy.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import {
  DefaultWebhookEventTypes,
  MailWebhookEventTypes,
  WebhookEventTypes,
} from '../domain/events.js';
import { deadline } from '../net/deadline.js';
import type { Fetch } from '../oauth/discovery.js';
import type { EventView } from '../schemas/events.js';
import type { CreateWebhookInput, WebhookView } from '../schemas/webhooks.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import {
  createDeliveryRepository,
  createWebhookRepository,
  type DeliveryRecord,
  type WebhookSummary,
} from '../store/repositories/webhooks.js';
import type { EventService, EventSubscriber } from './events.js';
import { issueEventData } from './issues.js';

/** Delivery attempts before a delivery is given up; backoff doubles from 5 s to 1 h. */
export const WEBHOOK_MAX_ATTEMPTS = 8;

/**
 * Each attempt's timeout: a receiver should answer at once and do its work afterwards
 * (Standard Webhooks' advice); one that does not is retried later, not waited for.
 */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>"))
 * where the secret is the base64 part of `whsec_…`.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * What went wrong with a request, for the administrator: fetch's own "fetch failed" says
 * nothing, the system error code under it (ECONNREFUSED, ENOTFOUND, a TLS code) does.
 */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  const cause = error.cause as { code?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${error.name}: ${error.message}${code}`.slice(0, 300);
}

export interface WebhookService {
  create(actor: Actor, input: CreateWebhookInput): Promise<WebhookView & { secret: string }>;
  list(): Promise<WebhookView[]>;
  remove(actor: Actor, id: string): Promise<void>;
  /** Queues deliveries for an event, inside the event's transaction. */
  readonly subscriber: EventSubscriber;
  /**
   * Sends up to `limit` due deliveries, at most `concurrency` at once, and returns how many
   * were attempted. One webhook's deliveries go one after the other, in event order; after a
   * failed attempt the rest of that webhook's wait for the next call, so a dead receiver
   * costs one timeout per call, not one per delivery.
   */
  deliverDue(options: { limit: number; concurrency: number }): Promise<number>;
}

export function createWebhookService(deps: {
  db: Executor;
  cipher: Cipher;
  clock: Clock;
  fetch: Fetch;
  log: Logger;
  /** Set after construction: the event service depends on this service's subscriber. */
  events: () => EventService;
  /** Outlink's base URL: issue events link to the issue's page under it. */
  baseUrl: URL;
  timeoutMs?: number;
  /** The addresses a webhook may be sent to (issue 11); nothing re-allowed when absent. */
  addresses?: AddressPolicy;
}): WebhookService {
  const { db, cipher, clock } = deps;
  const addresses = deps.addresses ?? createAddressPolicy();
  const webhooks = createWebhookRepository(db);
  const deliveries = createDeliveryRepository(db);
  const toView = (r: WebhookSummary): WebhookView => ({
    id: r.id,
    url: r.url,
    eventTypes: [...r.eventTypes],
    createdAt: r.createdAt,
  });

  /** One attempt; false when it failed (or the webhook is gone). */
  const attempt = async (delivery: DeliveryRecord): Promise<boolean> => {
    const hook = await webhooks.findById(delivery.webhookId);
    if (!hook) return false;
    const secret = cipher.decrypt(hook.secretEnc, Aad.webhookSecret(hook.id));
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    let problem: string | undefined;
    const timeout = deadline(deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
    try {
      const response = await deps.fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(secret, delivery.id, timestamp, delivery.payload),
        },
        body: delivery.payload,
        redirect: 'manual',
        signal: timeout.signal,
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) problem = `HTTP ${response.status}`;
    } catch (error) {
      problem = describeFailure(error);
    } finally {
      timeout.clear();
    }
    const attempts = delivery.attempts + 1;
    const now = clock.now();
    const final = !problem || attempts >= WEBHOOK_MAX_ATTEMPTS;
    await inTransaction(db, async (trx) => {
      await createDeliveryRepository(trx).recordAttempt(delivery.id, {
        attempts,
        status: problem ? (final ? 'failed' : 'pending') : 'delivered',
        lastError: problem ?? null,
        nextAttemptAt: new Date(
          now.getTime() + Math.min(3_600_000, 5_000 * 2 ** (attempts - 1)),
        ).toISOString(),
        deliveredAt: problem ? null : now.toISOString(),
      });
      await deps.events().record(trx, {
        type: problem ? 'webhook.failed' : 'webhook.delivered',
        actor: { kind: 'system' },
        data: {
          webhookId: hook.id,
          deliveryId: delivery.id,
          eventId: delivery.eventId,
          eventType: delivery.eventType,
          attempt: attempts,
          ...(problem ? { error: problem, final } : {}),
        },
      });
    });
    return !problem;
  };

  /** The `data` of an event's webhook body; undefined: nothing to send (the issue is gone). */
  const payloadData = async (
    trx: Executor,
    event: EventView,
  ): Promise<Record<string, unknown> | undefined> => {
    if ((MailWebhookEventTypes as readonly string[]).includes(event.type)) {
      const issue = await issueEventData(trx, deps.baseUrl, event);
      return issue && { ...issue, eventId: event.id, mailServerId: event.mailServerId };
    }
    return {
      ...event.data,
      eventId: event.id,
      linkId: event.linkId,
      connectionId: event.connectionId,
      ...(event.mailServerId ? { mailServerId: event.mailServerId } : {}),
    };
  };

  return {
    async create(actor, input) {
      if (new URL(input.url).protocol !== 'https:') {
        throw new OutlinkError(
          'endpoint_not_https',
          { field: 'url' },
          { details: { field: 'url' } },
        );
      }
      assertUrlAllowed(addresses, 'url', input.url);
      const id = randomUUID();
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      // Mail events are opt-in: without a list, the connection events only.
      const eventTypes = input.eventTypes ?? [...DefaultWebhookEventTypes];
      const row = { id, url: input.url, eventTypes, createdAt: clock.now().toISOString() };
      await inTransaction(db, async (trx) => {
        await createWebhookRepository(trx).insert({
          ...row,
          secretEnc: cipher.encrypt(secret, Aad.webhookSecret(id)),
        });
        // The origin only: a receiver's URL may carry a token of its own in the path or query.
        await deps.events().record(trx, {
          type: 'webhook.created',
          actor,
          data: { webhookId: id, origin: new URL(input.url).origin, eventTypes },
        });
      });
      deps.log.info({ webhookId: id, url: input.url, actor: actor.kind }, 'webhook created');
      return { ...toView(row), secret };
    },
    async list() {
      return (await webhooks.list()).map(toView);
    },
    async remove(actor, id) {
      await inTransaction(db, async (trx) => {
        if (!(await createWebhookRepository(trx).delete(id))) {
          throw new OutlinkError('webhook_not_found', { id });
        }
        await deps
          .events()
          .record(trx, { type: 'webhook.deleted', actor, data: { webhookId: id } });
      });
    },
    subscriber: async (trx, event: EventView) => {
      if (!(WebhookEventTypes as readonly string[]).includes(event.type)) return;
      const hooks = (await createWebhookRepository(trx).subscriptions()).filter((hook) =>
        hook.eventTypes.includes(event.type),
      );
      if (hooks.length === 0) return;
      const data = await payloadData(trx, event);
      if (!data) return;
      const payload = JSON.stringify({ type: event.type, timestamp: event.at, data });
      const queue = createDeliveryRepository(trx);
      for (const hook of hooks) {
        await queue.insert({
          id: `msg_${randomUUID()}`,
          webhookId: hook.id,
          eventId: event.id,
          eventType: event.type,
          payload,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: event.at,
          lastError: null,
          createdAt: event.at,
          deliveredAt: null,
        });
      }
    },
    async deliverDue({ limit, concurrency }) {
      const due = await deliveries.listDue(clock.now().toISOString(), limit);
      const lanes = new Map<string, DeliveryRecord[]>();
      for (const delivery of due) {
        const lane = lanes.get(delivery.webhookId) ?? [];
        lane.push(delivery);
        lanes.set(delivery.webhookId, lane);
      }
      const queue = [...lanes.values()];
      let attempted = 0;
      const worker = async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift()) {
          for (const delivery of lane) {
            attempted++;
            if (!(await attempt(delivery))) break;
          }
        }
      };
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker),
      );
      return attempted;
    },
  };
}
