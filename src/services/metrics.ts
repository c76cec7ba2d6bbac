/**
 * Prometheus metrics (issue 13 item 5, DESIGN §8 `/metrics`). The lower layers report through
 * `Observations` (a counter increment, no I/O); what the database knows — each connection's
 * token expiry — is read only when `/metrics` is scraped. Labels are ids and catalog ids,
 * never an account, a token or a secret.
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Observations } from '../domain/observations.js';
import { createConnectionTokensRepository } from '../store/repositories/connection-tokens.js';
import type { Database } from '../store/schema.js';
import type { EventSubscriber } from './events.js';

/** The most connections one scrape lists (a series each); more are left out. */
export const METRICS_CONNECTION_LIMIT = 10_000;

export interface Metrics {
  /** What the token lifecycle, the flows, the mail handler and the webhooks report. */
  readonly observations: Observations;
  /** Counts the events that carry an outcome (authorization flows, webhook deliveries). */
  readonly subscriber: EventSubscriber;
  /** One answered HTTP request: `route` is the route's pattern, never the raw URL. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** The exposition text and its content type, gauges read from the database now. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(deps: { db: Kysely<Database>; now: () => Date }): Metrics {
  const registry = new Registry();
  const connections = createConnectionTokensRepository(deps.db);

  const refreshAttempts = new Counter({
    name: 'outlink_refresh_attempts_total',
    help: 'Token requests made to refresh a connection, by link',
    labelNames: ['link'] as const,
    registers: [registry],
  });
  const refreshFailures = new Counter({
    name: 'outlink_refresh_failures_total',
    help: 'Refresh token requests that failed, by link and catalog reason',
    labelNames: ['link', 'reason'] as const,
    registers: [registry],
  });
  const flows = new Counter({
    name: 'outlink_authorization_flows_total',
    help: 'Authorization flows that ended, by outcome and catalog reason',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  const mailPolls = new Counter({
    name: 'outlink_mail_polls_total',
    help: 'Mail handler runs of a mailbox, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mailMessages = new Counter({
    name: 'outlink_mail_messages_total',
    help: 'Messages the mail handler fetched and what became of them (created, commented, skipped, failed)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'outlink_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Issue 12: a request's latency is kept in a plain list and handed to the histogram in
  // batches — at every 256th of its series and whenever the metrics are read — because one
  // `observe` in the middle of a request cost the token route a twentieth of its CPU, and
  // far less in a tight loop. Nothing is lost: every read folds what is pending first.
  const pendingHttp = new Map<string, PendingSeries>();
  const foldHttp = (series: PendingSeries) => {
    for (const seconds of series.values) httpDuration.observe(series.labels, seconds);
    series.values.length = 0;
  };
  const httpDuration = new Histogram({
    name: 'outlink_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
    collect() {
      for (const series of pendingHttp.values()) foldHttp(series);
    },
  });
  const expiry = new Gauge({
    name: 'outlink_token_expiry_seconds',
    help: 'Seconds until the access token of each connection expires (negative: expired)',
    labelNames: ['link', 'connection', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const now = deps.now().getTime();
      for (const row of await connections.expiries(METRICS_CONNECTION_LIMIT)) {
        if (!row.expires_at) continue;
        this.set(
          { link: row.link_id, connection: row.id, status: row.status },
          Math.round((Date.parse(row.expires_at) - now) / 1000),
        );
      }
    },
  });
  void expiry;

  const observations: Observations = {
    refreshAttempt(linkId, failure) {
      refreshAttempts.inc({ link: linkId });
      if (failure) refreshFailures.inc({ link: linkId, reason: failure });
    },
    flowEnded(outcome, reason) {
      flows.inc({ outcome, reason: reason ?? '' });
    },
    mailPoll(outcome, counts) {
      mailPolls.inc({ outcome });
      for (const [result, n] of Object.entries(counts ?? {})) {
        if (n > 0) mailMessages.inc({ result }, n);
      }
    },
    webhookDelivery(outcome) {
      webhookDeliveries.inc({ outcome });
    },
  };

  return {
    observations,
    subscriber: async (_db, event) => {
      if (event.type === 'connection.authorized') observations.flowEnded('authorized');
      else if (event.type === 'connection.authorization_failed') {
        const reason = event.data.reason;
        observations.flowEnded('failed', typeof reason === 'string' ? reason : undefined);
      } else if (event.type === 'webhook.delivered') observations.webhookDelivery('delivered');
      else if (event.type === 'webhook.failed') {
        observations.webhookDelivery(event.data.final === true ? 'failed' : 'retrying');
      }
    },
    observeHttp(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let series = pendingHttp.get(key);
      if (!series) {
        series = { labels: { method, route, status: String(status) }, values: [] };
        pendingHttp.set(key, series);
      }
      series.values.push(seconds);
      if (series.values.length >= HTTP_BATCH) foldHttp(series);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** Latencies of one series not yet in the histogram. */
interface PendingSeries {
  readonly labels: { method: string; route: string; status: string };
  readonly values: number[];
}

/** Pending latencies per series before they go to the histogram. */
const HTTP_BATCH = 256;
