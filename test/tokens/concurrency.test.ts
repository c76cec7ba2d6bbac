import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import {
  authorizeAccount,
  createTestLink,
  startTestProvider,
  TEST_CLIENT,
  type TestProvider,
} from '../support/worlds.js';

const CALLERS = 1_000;
const HOUR = 60 * 60_000;

for (const dialect of Dialects) {
  describe(`single-flight getAccessToken in one process on ${dialect}`, () => {
    const clock = createManualClock();
    let provider: TestProvider;
    let outlink: TestOutlink;
    let connectionId: string;

    before(async () => {
      provider = await startTestProvider({ accounts: ['alice@example.test'] });
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch });
      const linkId = await createTestLink(outlink, provider);
      connectionId = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
    });
    after(async () => {
      await outlink?.close();
      await provider?.close();
    });

    const refreshedEvents = async () => {
      const res = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/events?type=connection.refreshed&limit=100',
        headers: await outlink.adminHeaders(),
      });
      return (res.json() as { items: { connectionId?: string }[] }).items.filter(
        (e) => e.connectionId === connectionId,
      ).length;
    };

    it(`answers ${CALLERS} callers of a fresh token from the database, with no token request`, async () => {
      const requests = provider.proxy.count(provider.tokenPath);
      const views = await Promise.all(
        Array.from({ length: CALLERS }, () => outlink.services.tokens.getAccessToken(connectionId)),
      );
      assert.equal(provider.proxy.count(provider.tokenPath), requests);
      assert.equal(new Set(views.map((v) => v.accessToken)).size, 1);
    });

    it(`makes exactly one token request for ${CALLERS} concurrent callers of an expired token`, async () => {
      const old = (await outlink.services.tokens.getAccessToken(connectionId)).accessToken;
      const requests = provider.proxy.count(provider.tokenPath);
      const eventsBefore = await refreshedEvents();
      clock.advance(2 * HOUR);

      const views = await Promise.all(
        Array.from({ length: CALLERS }, () => outlink.services.tokens.getAccessToken(connectionId)),
      );

      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      const tokens = new Set(views.map((v) => v.accessToken));
      assert.equal(tokens.size, 1);
      const [fresh] = tokens;
      assert.notEqual(fresh, old);
      assert.equal(views[0]?.expiresAt, new Date(clock.now().getTime() + HOUR).toISOString());
      assert.equal((await refreshedEvents()) - eventsBefore, 1);
      // The new token is what the provider itself vouches for.
      const introspection = await introspect(provider, fresh ?? '');
      assert.equal(introspection.active, true);
      assert.equal(introspection.email, 'alice@example.test');
    });

    it(`shares one forced refresh among ${CALLERS} callers told the token was rejected`, async () => {
      const rejected = (await outlink.services.tokens.getAccessToken(connectionId)).accessToken;
      const requests = provider.proxy.count(provider.tokenPath);
      const views = await Promise.all(
        Array.from({ length: CALLERS }, () =>
          outlink.services.tokens.getAccessToken(connectionId, { rejectedToken: rejected }),
        ),
      );
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      const tokens = new Set(views.map((v) => v.accessToken));
      assert.equal(tokens.size, 1);
      assert.ok(!tokens.has(rejected));
    });

    it(`serves ${CALLERS / 5} concurrent token API requests on an expired token with one refresh`, async () => {
      const headers = await outlink.tokenHeaders();
      const requests = provider.proxy.count(provider.tokenPath);
      clock.advance(2 * HOUR);
      const answers = await Promise.all(
        Array.from({ length: CALLERS / 5 }, () =>
          outlink.app.inject({
            method: 'GET',
            url: `/api/v1/connections/${connectionId}/token`,
            headers,
          }),
        ),
      );
      assert.deepEqual([...new Set(answers.map((a) => a.statusCode))], [200]);
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      assert.equal(
        new Set(answers.map((a) => (a.json() as { accessToken: string }).accessToken)).size,
        1,
      );
    });
  });
}

/** RFC 7662 introspection at the real provider, as the client itself. */
async function introspect(
  provider: TestProvider,
  token: string,
): Promise<{ active: boolean; email?: string }> {
  const res = await provider.as.fetch(provider.as.endpoints.introspection, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
    }).toString(),
  });
  return (await res.json()) as { active: boolean; email?: string };
}
