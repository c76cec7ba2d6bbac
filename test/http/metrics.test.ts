import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { startHttpsPeer } from '../peers/https-server.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import {
  authorizeAccount,
  createTestLink,
  revokeToken,
  startTestProvider,
  TEST_CLIENT,
  type TestProvider,
} from '../support/worlds.js';

const MINUTE = 60_000;

/** Every metric family `/metrics` must show (issue 13 item 5). */
const FAMILIES = [
  'outlink_refresh_attempts_total',
  'outlink_refresh_failures_total',
  'outlink_token_expiry_seconds',
  'outlink_authorization_flows_total',
  'outlink_mail_polls_total',
  'outlink_mail_messages_total',
  'outlink_webhook_deliveries_total',
  'outlink_http_request_duration_seconds',
];

/** Every spelling of a secret a careless line might carry. */
function spellings(value: string): string[] {
  const b = Buffer.from(value);
  return [value, b.toString('base64'), b.toString('base64url'), encodeURIComponent(value)];
}

for (const dialect of Dialects) {
  describe(`/metrics on ${dialect}`, () => {
    let provider: TestProvider;
    let outlink: TestOutlink;
    let receiver: Awaited<ReturnType<typeof startHttpsPeer>>;
    const clock = createManualClock(new Date());
    let linkId: string;
    let connectionId: string;
    let metricsToken: string;
    let readerToken: string;
    let adminToken: string;
    let webhookSecret: string;
    const accessTokens: string[] = [];
    let exposition = '';

    const scrape = async (headers: Record<string, string> = {}, remoteAddress?: string) =>
      outlink.app.inject({
        method: 'GET',
        url: '/metrics',
        headers,
        ...(remoteAddress ? { remoteAddress } : {}),
      });
    const createToken = async (payload: Record<string, unknown>) => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await outlink.adminHeaders(),
        payload: { name: `m-${Math.random().toString(36).slice(2, 8)}`, ...payload },
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { token: string }).token;
    };

    before(async () => {
      provider = await startTestProvider({ accounts: ['alice@example.test'] });
      receiver = await startHttpsPeer((_req: IncomingMessage, res: ServerResponse) => {
        res.statusCode = 204;
        res.end();
      });
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch });
      linkId = await createTestLink(outlink, provider);
      const hook = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: await outlink.adminHeaders(),
        payload: { url: `${receiver.origin}/hook` },
      });
      assert.equal(hook.statusCode, 201, hook.body);
      webhookSecret = (hook.json() as { secret: string }).secret;
      connectionId = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      metricsToken = await createToken({ scopes: ['metrics:read'] });
      readerToken = await createToken({ scopes: ['token:read'], linkIds: [linkId] });
      adminToken = await createToken({});

      // A real token request, a real refresh, a real failed refresh, a real webhook delivery.
      const token = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${connectionId}/token`,
        headers: { authorization: `Bearer ${readerToken}` },
      });
      assert.equal(token.statusCode, 200, token.body);
      accessTokens.push((token.json() as { accessToken: string }).accessToken);
      clock.advance(56 * MINUTE);
      const tick = await outlink.services.scheduler.tick();
      assert.deepEqual(tick, { due: 1, refreshed: 1, failed: 0 });
      const fresh = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${connectionId}/token`,
        headers: { authorization: `Bearer ${readerToken}` },
      });
      const freshToken = (fresh.json() as { accessToken: string }).accessToken;
      accessTokens.push(freshToken);
      assert.equal(await outlink.services.webhookDispatcher.tick(), 1);
      await revokeToken(provider, freshToken, 'access_token');
      await assert.rejects(outlink.services.tokens.refreshNow(connectionId, { kind: 'system' }));

      const res = await scrape({ authorization: `Bearer ${metricsToken}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      exposition = res.body;
    });
    after(async () => {
      await outlink?.close();
      await receiver?.close();
      await provider?.close();
    });

    it('refuses a scraper without a credential, or with one that may not read metrics', async () => {
      const none = await scrape();
      assert.equal(none.statusCode, 401);
      assert.equal((none.json() as { error: { code: string } }).error.code, 'not_authenticated');
      const reader = await scrape({ authorization: `Bearer ${readerToken}` });
      assert.equal(reader.statusCode, 403);
      const body = reader.json() as { error: { code: string; remedy: string } };
      assert.equal(body.error.code, 'metrics_forbidden');
      assert.match(body.error.remedy, /metrics:read/);
      const ja = await scrape({ authorization: `Bearer ${readerToken}`, 'accept-language': 'ja' });
      assert.match((ja.json() as { error: { message: string } }).error.message, /メトリクス/);
      const admin = await scrape({ authorization: `Bearer ${adminToken}` });
      assert.equal(admin.statusCode, 200);
    });

    it('shows each metric family, filled in by the refresh, the flow and the delivery', () => {
      for (const family of FAMILIES) {
        assert.match(exposition, new RegExp(`^# TYPE ${family} (counter|gauge|histogram)$`, 'm'));
      }
      const line = (pattern: string) => new RegExp(`^${pattern} (\\S+)$`, 'm').exec(exposition);
      const attempts = line(`outlink_refresh_attempts_total\\{link="${linkId}"\\}`);
      assert.ok(attempts, 'no refresh attempts for the link');
      assert.ok(Number(attempts[1]) >= 2, `attempts ${attempts[1]}`);
      assert.ok(
        line(`outlink_refresh_failures_total\\{link="${linkId}",reason="invalid_grant"\\}`),
        'no invalid_grant failure for the link',
      );
      assert.ok(line('outlink_authorization_flows_total\\{outcome="authorized",reason=""\\}'));
      assert.ok(line('outlink_webhook_deliveries_total\\{outcome="delivered"\\}'));
      // Expiry per connection, read at scrape time.
      assert.ok(
        line(
          `outlink_token_expiry_seconds\\{link="${linkId}",connection="${connectionId}",status="[a-z_]+"\\}`,
        ),
        'no expiry gauge for the connection',
      );
      // Latency by route pattern, never the raw URL with its ids.
      assert.ok(
        line(
          'outlink_http_request_duration_seconds_count\\{method="GET",route="/api/v1/connections/:id/token",status="200"\\}',
        ),
        'no latency for the token route',
      );
      assert.ok(!exposition.includes(`/api/v1/connections/${connectionId}/token`));
    });

    it('never shows or logs a secret', async () => {
      const secrets = [
        TEST_CLIENT.clientSecret,
        metricsToken,
        readerToken,
        adminToken,
        webhookSecret,
        ...accessTokens,
      ];
      const refresh = await outlink.services.store.db
        .selectFrom('connections')
        .select('refresh_token_enc')
        .execute();
      assert.ok(refresh.length > 0);
      const lines = outlink.logLines.join('\n');
      for (const secret of secrets) {
        for (const s of spellings(secret)) {
          assert.ok(!exposition.includes(s), 'a secret in /metrics');
          assert.ok(!lines.includes(s), 'a secret in a log line');
        }
      }
      assert.ok(!exposition.includes('alice@example.test'), 'an account in /metrics');
    });

    it('names each request by an id, in the answer and in its log line', async () => {
      // A refused request: its line is an info line (a successful read's is a debug one).
      const sent = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/links',
        headers: { 'x-request-id': 'lb-7f3a.42' },
      });
      assert.equal(sent.statusCode, 401);
      assert.equal(sent.headers['x-request-id'], 'lb-7f3a.42');
      const logged = outlink.logLines
        .map((l) => JSON.parse(l) as { reqId?: string; msg?: string; req?: { url?: string } })
        .find((l) => l.reqId === 'lb-7f3a.42' && l.msg === 'request completed');
      assert.equal(logged?.req?.url, '/api/v1/links');

      // An unsafe or overlong id is replaced, not echoed.
      for (const bad of ['a b', 'x'.repeat(65), 'id\u0000evil', '"><script>']) {
        const res = await outlink.app.inject({
          method: 'GET',
          url: '/healthz',
          headers: { 'x-request-id': bad },
        });
        const id = String(res.headers['x-request-id']);
        assert.notEqual(id, bad);
        assert.match(id, /^[0-9a-f-]{36}$/);
      }
      // A refusal carries it too, with the id in its body.
      const refused = await scrape();
      const id = String(refused.headers['x-request-id']);
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.ok(outlink.logLines.some((l) => l.includes(`"reqId":"${id}"`)));
    });
  });
}

describe('/metrics from an allowed address', () => {
  let outlink: TestOutlink;
  before(async () => {
    outlink = await startOutlink('sqlite', {
      env: { OUTLINK_METRICS_ALLOW: '127.0.0.0/8, 192.0.2.7' },
    });
  });
  after(() => outlink?.close());

  it('answers an address on the list without a credential, and no other', async () => {
    for (const remoteAddress of ['127.0.0.1', '192.0.2.7', '::ffff:127.0.0.1']) {
      const res = await outlink.app.inject({ method: 'GET', url: '/metrics', remoteAddress });
      assert.equal(res.statusCode, 200, `${remoteAddress}: ${res.body}`);
      assert.match(res.body, /# TYPE outlink_refresh_attempts_total counter/);
    }
    const res = await outlink.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '192.0.2.8',
    });
    assert.equal(res.statusCode, 401);
  });

  it('rejects an address list that is not one', async () => {
    const { loadConfig } = await import('../../src/config/config.js');
    assert.throws(
      () => loadConfig({ OUTLINK_METRICS_ALLOW: '10.0.0.0/33' }),
      /OUTLINK_METRICS_ALLOW/,
    );
  });
});
