import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { WEBHOOK_MAX_ATTEMPTS } from '../../src/services/webhooks.js';
import { createTestTls } from '../peers/ca.js';
import { oauthError } from '../peers/fault-proxy.js';
import { type HttpsPeer, startHttpsPeer } from '../peers/https-server.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import {
  authorizeAccount,
  createTestLink,
  startTestProvider,
  type TestProvider,
} from '../support/worlds.js';

const SECOND = 1_000;

type ManualClock = ReturnType<typeof createManualClock>;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver: records every request, answers with queued statuses, then 204. */
interface Receiver {
  readonly url: string;
  readonly received: Received[];
  answer(...statuses: number[]): void;
  /** Answers every request with a redirect to `location`. */
  redirect(location: string): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const statuses: number[] = [];
  let location: string | undefined;
  const peer: HttpsPeer = await startHttpsPeer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (location) {
        res.writeHead(307, { location });
        res.end();
        return;
      }
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  return {
    url: `${peer.origin}/hooks/outlink`,
    received,
    answer: (...s) => {
      statuses.push(...s);
    },
    redirect: (to) => {
      location = to;
    },
    close: () => peer.close(),
  };
}

/**
 * Standard Webhooks verification, written from the spec rather than from Outlink's code:
 * HMAC-SHA256 keyed with the base64-decoded part of `whsec_…` over `id.timestamp.body`,
 * sent as `v1,<base64>` (possibly one of several space-separated signatures).
 */
function verifyStandardWebhook(secret: string, message: Received): boolean {
  const id = String(message.headers['webhook-id']);
  const timestamp = String(message.headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${id}.${timestamp}.${message.body}`)
    .digest('base64');
  return String(message.headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

interface EventItem {
  id: string;
  type: string;
  connectionId?: string;
  data: Record<string, unknown>;
}

for (const dialect of Dialects) {
  describe(`webhooks on ${dialect}`, () => {
    let provider: TestProvider;
    let receiver: Receiver;
    let clock: ManualClock;
    let outlink: TestOutlink;

    before(async () => {
      provider = await startTestProvider({ accounts: ['alice@example.test'] });
    });
    after(async () => {
      await provider?.close();
    });
    beforeEach(async () => {
      clock = createManualClock();
      receiver = await startReceiver();
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch });
    });
    afterEach(async () => {
      await outlink?.close();
      await receiver?.close();
    });

    const createHook = async (payload: Record<string, unknown> = {}) => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: await outlink.adminHeaders(),
        payload: { url: receiver.url, ...payload },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; url: string; secret: string; eventTypes: string[] };
    };

    const events = async (type: string) => {
      const res = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/events?type=${type}&limit=100`,
        headers: await outlink.adminHeaders(),
      });
      return (res.json() as { items: EventItem[] }).items.reverse();
    };

    const deliveryRow = (id: string) =>
      outlink.services.store.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    it('creates an https endpoint, shows its secret once, lists and deletes it', async () => {
      const headers = await outlink.adminHeaders();
      const insecure = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers,
        payload: { url: 'http://127.0.0.1:9/hook' },
      });
      assert.equal(insecure.statusCode, 422);
      assert.equal(
        (insecure.json() as { error: { code: string; message: string } }).error.message,
        'The url must be an https:// URL.',
      );
      assert.equal(
        (insecure.json() as { error: { code: string } }).error.code,
        'endpoint_not_https',
      );

      const created = await createHook();
      assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      assert.equal(Buffer.from(created.secret.slice(6), 'base64').length, 24);
      assert.deepEqual(Object.keys(created).sort(), [
        'createdAt',
        'eventTypes',
        'id',
        'secret',
        'url',
      ]);
      assert.equal(created.url, receiver.url);
      assert.deepEqual(created.eventTypes, [
        'connection.authorized',
        'connection.refresh_failed',
        'connection.recovered',
        'connection.reauthorization_required',
        // Issue 13's notices.
        'link.credentials_failed',
        'link.credentials_recovered',
        'link.client_secret_expiring',
        'mail_server.handler_stopped',
        'mail_server.handler_recovered',
      ]);

      const list = await outlink.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json(), {
        items: [
          {
            id: created.id,
            url: receiver.url,
            eventTypes: created.eventTypes,
            createdAt: clock.now().toISOString(),
          },
        ],
      });
      assert.ok(!list.body.includes('whsec_'));
      assert.ok(!list.body.includes(created.secret.slice(6)));

      const removed = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/webhooks/${created.id}`,
        headers,
      });
      assert.equal(removed.statusCode, 204);
      const again = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/webhooks/${created.id}`,
        headers,
      });
      assert.equal(again.statusCode, 404);
      assert.equal((again.json() as { error: { code: string } }).error.code, 'webhook_not_found');
      const empty = await outlink.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers });
      assert.deepEqual(empty.json(), { items: [] });

      // Both are in the event log, by whom, without the secret (issue 11).
      const logged = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/events?limit=200',
        headers,
      });
      const items = (
        logged.json() as { items: { type: string; actor: string; data: Record<string, unknown> }[] }
      ).items.filter((e) => e.type.startsWith('webhook.') && e.data.webhookId === created.id);
      assert.deepEqual(
        items.map((e) => [e.type, e.actor, e.data]),
        [
          ['webhook.deleted', 'admin', { webhookId: created.id }],
          [
            'webhook.created',
            'admin',
            {
              webhookId: created.id,
              origin: new URL(receiver.url).origin,
              eventTypes: created.eventTypes,
            },
          ],
        ],
      );
      assert.ok(!logged.body.includes(created.secret.slice(6)));
    });

    it('is for administrators only', async () => {
      const anonymous = await outlink.app.inject({ method: 'GET', url: '/api/v1/webhooks' });
      assert.equal(anonymous.statusCode, 401);
      const created = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await outlink.adminHeaders(),
        payload: { name: 'reader', scopes: ['token:read'] },
      });
      const reader = { authorization: `Bearer ${(created.json() as { token: string }).token}` };
      const list = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/webhooks',
        headers: reader,
      });
      assert.equal(list.statusCode, 403);
      const post = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: reader,
        payload: { url: receiver.url },
      });
      assert.equal(post.statusCode, 403);
    });

    it('delivers authorized, refresh_failed, recovered and reauthorization_required, signed', async () => {
      const hook = await createHook();
      const headers = await outlink.adminHeaders();
      const linkId = await createTestLink(outlink, provider);
      const connectionId = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');

      // A transient failure while the token is still good: refresh_failed, then recovered.
      clock.advance(SECOND);
      provider.proxy.queue({
        kind: 'respond',
        status: 503,
        headers: { 'retry-after': '120' },
        body: 'maintenance',
      });
      const failing = await outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${connectionId}/refresh`,
        headers,
      });
      assert.equal(failing.statusCode, 200, failing.body);
      assert.equal((failing.json() as { status: string }).status, 'refresh_failing');
      clock.advance(SECOND);
      const recovered = await outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${connectionId}/refresh`,
        headers,
      });
      assert.equal((recovered.json() as { status: string }).status, 'valid');
      // A permanent failure: the grant is gone.
      clock.advance(SECOND);
      provider.proxy.queue(oauthError('invalid_grant', 400, 'grant request is invalid'));
      const revoked = await outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${connectionId}/refresh`,
        headers,
      });
      assert.equal(revoked.statusCode, 409);

      assert.equal(receiver.received.length, 0, 'deliveries wait for the dispatcher');
      clock.advance(SECOND);
      const deliveredAt = clock.now();
      assert.equal(await outlink.services.webhookDispatcher.tick(), 4);
      assert.equal(receiver.received.length, 4);

      const sourceEvents = new Map<string, EventItem>();
      for (const type of [
        'connection.authorized',
        'connection.refresh_failed',
        'connection.recovered',
        'connection.reauthorization_required',
      ]) {
        const [event, ...more] = await events(type);
        assert.equal(more.length, 0, type);
        assert.ok(event);
        sourceEvents.set(type, event);
      }
      const bodies = receiver.received.map(
        (m) =>
          JSON.parse(m.body) as { type: string; timestamp: string; data: Record<string, unknown> },
      );
      assert.deepEqual(
        bodies.map((b) => b.type),
        [
          'connection.authorized',
          'connection.refresh_failed',
          'connection.recovered',
          'connection.reauthorization_required',
        ],
      );
      for (const [i, message] of receiver.received.entries()) {
        assert.equal(message.headers['content-type'], 'application/json');
        assert.match(String(message.headers['webhook-id']), /^msg_[0-9a-f-]{36}$/);
        assert.equal(
          message.headers['webhook-timestamp'],
          String(Math.floor(deliveredAt.getTime() / 1000)),
        );
        assert.match(String(message.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
        assert.equal(verifyStandardWebhook(hook.secret, message), true, `signature ${i}`);
        // The same message under another key, or altered, does not verify.
        assert.equal(
          verifyStandardWebhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, message),
          false,
        );
        assert.equal(
          verifyStandardWebhook(hook.secret, { ...message, body: `${message.body} ` }),
          false,
        );
        const body = bodies[i]!;
        const source = sourceEvents.get(body.type)!;
        assert.equal(body.data.eventId, source.id);
        assert.equal(body.data.connectionId, connectionId);
        assert.equal(body.data.linkId, linkId);
        assert.equal(body.data.account, 'alice@example.test');
      }
      const ids = new Set(receiver.received.map((m) => m.headers['webhook-id']));
      assert.equal(ids.size, 4);
      assert.deepEqual(bodies[1]?.data, {
        account: 'alice@example.test',
        reason: 'provider_unavailable',
        transient: true,
        retryAt: new Date(deliveredAt.getTime() - 3 * SECOND + 120 * SECOND).toISOString(),
        status: 503,
        eventId: sourceEvents.get('connection.refresh_failed')?.id,
        linkId,
        connectionId,
      });
      assert.deepEqual(bodies[2]?.data, {
        account: 'alice@example.test',
        from: 'refresh_failing',
        eventId: sourceEvents.get('connection.recovered')?.id,
        linkId,
        connectionId,
      });
      assert.deepEqual(bodies[3]?.data, {
        account: 'alice@example.test',
        reason: 'invalid_grant',
        scope: 'connection',
        error: 'invalid_grant',
        eventId: sourceEvents.get('connection.reauthorization_required')?.id,
        linkId,
        connectionId,
      });
      assert.equal(
        bodies[0]?.timestamp,
        new Date(deliveredAt.getTime() - 4 * SECOND).toISOString(),
      );

      const delivered = await events('webhook.delivered');
      assert.deepEqual(
        delivered.map((e) => e.data),
        receiver.received.map((m, i) => ({
          webhookId: hook.id,
          deliveryId: m.headers['webhook-id'],
          eventId: bodies[i]?.data.eventId,
          eventType: bodies[i]?.type,
          attempt: 1,
        })),
      );
      assert.deepEqual(await events('webhook.failed'), []);
      // Delivered once: the next tick sends nothing.
      clock.advance(3_600 * SECOND);
      assert.equal(await outlink.services.webhookDispatcher.tick(), 0);
      assert.equal(receiver.received.length, 4);
      await assertSecretKept(hook.secret);
    });

    it('retries a failing receiver with backoff, keeping the message id, until it answers', async () => {
      const hook = await createHook();
      const linkId = await createTestLink(outlink, provider);
      receiver.answer(500, 503, 502);
      await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      const start = clock.now().getTime();

      assert.equal(await outlink.services.webhookDispatcher.tick(), 1);
      assert.equal(receiver.received.length, 1);
      const id = String(receiver.received[0]?.headers['webhook-id']);
      const eventId = (
        JSON.parse(receiver.received[0]?.body ?? '{}') as { data: { eventId: string } }
      ).data.eventId;
      assert.deepEqual(
        (await events('webhook.failed')).map((e) => e.data),
        [
          {
            webhookId: hook.id,
            deliveryId: id,
            eventId,
            eventType: 'connection.authorized',
            attempt: 1,
            error: 'HTTP 500',
            final: false,
          },
        ],
      );
      const row = await deliveryRow(id);
      assert.equal(row.status, 'pending');
      assert.equal(row.next_attempt_at, new Date(start + 5 * SECOND).toISOString());

      // Each wait doubles (5 s, 10 s, 20 s), and nothing is sent before it is over.
      let elapsed = 0;
      for (const wait of [5, 10, 20]) {
        clock.advance(wait * SECOND - 1);
        assert.equal(await outlink.services.webhookDispatcher.tick(), 0);
        const sent: number = receiver.received.length;
        clock.advance(1);
        elapsed += wait;
        assert.equal(await outlink.services.webhookDispatcher.tick(), 1);
        assert.equal(receiver.received.length, sent + 1);
        if (wait < 20) {
          assert.equal(
            (await deliveryRow(id)).next_attempt_at,
            new Date(start + (elapsed + 2 * wait) * SECOND).toISOString(),
          );
        }
      }

      assert.deepEqual(
        receiver.received.map((m) => m.headers['webhook-id']),
        [id, id, id, id],
      );
      assert.deepEqual(
        receiver.received.map((m) => m.headers['webhook-timestamp']),
        [0, 5, 15, 35].map((s) => String(Math.floor(start / 1000) + s)),
      );
      for (const m of receiver.received) assert.equal(verifyStandardWebhook(hook.secret, m), true);
      const failed = await events('webhook.failed');
      assert.deepEqual(
        failed.map((e) => [e.data.attempt, e.data.error, e.data.final]),
        [
          [1, 'HTTP 500', false],
          [2, 'HTTP 503', false],
          [3, 'HTTP 502', false],
        ],
      );
      const delivered = await events('webhook.delivered');
      assert.deepEqual(
        delivered.map((e) => e.data),
        [
          {
            webhookId: hook.id,
            deliveryId: id,
            eventId,
            eventType: 'connection.authorized',
            attempt: 4,
          },
        ],
      );
      const done = await deliveryRow(id);
      assert.equal(done.status, 'delivered');
      assert.equal(done.attempts, 4);
      assert.equal(done.delivered_at, clock.now().toISOString());
      await assertSecretKept(hook.secret);
    });

    it(`gives up after ${WEBHOOK_MAX_ATTEMPTS} attempts, each one an event`, async () => {
      const hook = await createHook({ url: `https://127.0.0.1:${await closedPort()}/hook` });
      const linkId = await createTestLink(outlink, provider);
      await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      for (let i = 0; i < WEBHOOK_MAX_ATTEMPTS + 2; i++) {
        await outlink.services.webhookDispatcher.tick();
        clock.advance(3_600 * SECOND);
      }
      const failed = await events('webhook.failed');
      assert.deepEqual(
        failed.map((e) => [e.data.attempt, e.data.final]),
        Array.from({ length: WEBHOOK_MAX_ATTEMPTS }, (_, i) => [
          i + 1,
          i + 1 === WEBHOOK_MAX_ATTEMPTS,
        ]),
      );
      for (const e of failed) {
        assert.equal(e.data.webhookId, hook.id);
        assert.equal(e.data.error, 'TypeError: fetch failed (ECONNREFUSED)');
      }
      const [row] = await outlink.services.store.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .execute();
      assert.equal(row?.status, 'failed');
      assert.equal(row?.attempts, WEBHOOK_MAX_ATTEMPTS);
      await assertSecretKept(hook.secret);
    });

    it('does not follow a redirect: the attempt fails and the target never hears of it', async () => {
      const elsewhere = await startReceiver();
      try {
        await createHook();
        receiver.redirect(elsewhere.url);
        const linkId = await createTestLink(outlink, provider);
        await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
        assert.equal(await outlink.services.webhookDispatcher.tick(), 1);
        assert.equal(receiver.received.length, 1);
        assert.equal(elsewhere.received.length, 0);
        assert.deepEqual(
          (await events('webhook.failed')).map((e) => [e.data.error, e.data.final]),
          [['HTTP 307', false]],
        );
      } finally {
        await elsewhere.close();
      }
    });

    it('fails a receiver whose certificate is not trusted', async () => {
      const untrusted = await startHttpsPeer(
        (_req, res) => {
          res.statusCode = 204;
          res.end();
        },
        await createTestTls(),
      );
      try {
        await createHook({ url: `${untrusted.origin}/hook` });
        const linkId = await createTestLink(outlink, provider);
        await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
        assert.equal(await outlink.services.webhookDispatcher.tick(), 1);
        assert.deepEqual(
          (await events('webhook.failed')).map((e) => e.data.error),
          [
            // Its CA has the trusted CA's name but not its key.
            'TypeError: fetch failed (CERT_SIGNATURE_FAILURE)',
          ],
        );
        assert.deepEqual(await events('webhook.delivered'), []);
      } finally {
        await untrusted.close();
      }
    });

    it('sends only the subscribed types, and nothing once the webhook is deleted', async () => {
      const hook = await createHook({ eventTypes: ['connection.reauthorization_required'] });
      const linkId = await createTestLink(outlink, provider);
      const connectionId = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      assert.equal(await outlink.services.webhookDispatcher.tick(), 0);

      provider.proxy.queue(oauthError('invalid_grant'));
      await assert.rejects(outlink.services.tokens.refreshNow(connectionId, { kind: 'system' }));
      const queued = await outlink.services.store.db
        .selectFrom('webhook_deliveries')
        .select(['event_type', 'status'])
        .execute();
      assert.deepEqual(queued, [
        { event_type: 'connection.reauthorization_required', status: 'pending' },
      ]);

      const removed = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/webhooks/${hook.id}`,
        headers: await outlink.adminHeaders(),
      });
      assert.equal(removed.statusCode, 204);
      assert.equal(await outlink.services.webhookDispatcher.tick(), 0);
      assert.equal(receiver.received.length, 0);
      const left = await outlink.services.store.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .execute();
      assert.deepEqual(left, []);
    });

    /** The signing secret is in the create answer only: not in events, logs or deliveries. */
    const assertSecretKept = async (secret: string) => {
      const all = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/events?limit=100',
        headers: await outlink.adminHeaders(),
      });
      const key = secret.slice('whsec_'.length);
      for (const text of [all.body, ...outlink.logLines, ...receiver.received.map((m) => m.body)]) {
        assert.ok(!text.includes(key), 'the webhook secret leaked');
      }
      const stored = await outlink.services.store.db
        .selectFrom('webhooks')
        .select('secret_enc')
        .execute();
      for (const row of stored) assert.ok(!row.secret_enc.includes(key));
    };
  });
}
