import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestTls } from '../peers/ca.js';
import { jsonHandler, startHttpsPeer } from '../peers/https-server.js';
import { Dialects } from '../support/harness.js';
import {
  ALICE,
  type AuthorizedWorld,
  authorizeAccount,
  revokeToken,
  startAuthorizedWorld,
  storedTokens,
  TEST_CLIENT,
  testLinkBody,
} from '../support/worlds.js';
import { snapshot } from './diagnose-support.js';

/**
 * Diagnose (issue 13 item 1, `POST /api/v1/links/:id/diagnose`) against oidc-provider, with
 * each fault it reports really present: a wrong secret at the authorization server, a
 * redirect URL the server does not know, a scope added after authorization, a skewed clock,
 * an expiring secret, a base URL moved since an authorization. Diagnose changes nothing.
 */

interface CheckJson {
  id: string;
  status: 'pass' | 'warn' | 'fail';
  subject?: string;
  message: string;
  remedy?: string;
}

/** The skew the world's clock adds to real time. */
let skewMs = 0;

for (const dialect of Dialects) {
  describe(`diagnose a link, against oidc-provider, on ${dialect}`, () => {
    let world: AuthorizedWorld;
    let admin: Record<string, string>;

    const diagnose = async (linkId: string, lang = 'en'): Promise<CheckJson[]> => {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/links/${linkId}/diagnose?lang=${lang}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      for (const secret of [TEST_CLIENT.clientSecret]) assert.ok(!res.body.includes(secret));
      return (res.json() as { checks: CheckJson[] }).checks;
    };
    const only = (checks: CheckJson[], id: string) => checks.filter((c) => c.id === id);
    const statusOf = (checks: CheckJson[], id: string) => only(checks, id).map((c) => c.status);
    const createLink = async (overrides: Record<string, unknown>) => {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers: admin,
        payload: testLinkBody({ as: world.as, tokenEndpoint: world.as.endpoints.token }, overrides),
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };
    const patch = async (linkId: string, body: Record<string, unknown>) => {
      const res = await world.outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${linkId}`,
        headers: admin,
        payload: body,
      });
      assert.equal(res.statusCode, 200, res.body);
    };

    before(async () => {
      world = await startAuthorizedWorld(dialect, {
        outlink: {
          clock: { now: () => new Date(Date.now() + skewMs) },
        },
      });
      admin = await world.outlink.adminHeaders();
    });
    after(() => world?.close());

    it('passes every check of a healthy link, in order, and changes nothing', async () => {
      const before = await snapshot(world.outlink);
      const checks = await diagnose(world.linkId);
      assert.deepEqual(
        checks.map((c) => `${c.id}:${c.status}`),
        [
          'base_url_https:pass',
          'redirect_url:pass',
          'endpoint_tls:pass',
          'endpoint_tls:pass',
          'discovery:pass',
          'client_credentials:pass',
          'scopes:pass',
          'scopes:pass',
          'connection_token:pass',
          'connection_token:pass',
          'clock_skew:pass',
          'client_secret_expiry:pass',
        ],
        JSON.stringify(checks, null, 1),
      );
      assert.match(only(checks, 'client_credentials')[0]!.message, /invalid_grant/);
      assert.equal(only(checks, 'scopes')[0]!.subject, ALICE);
      assert.deepEqual(await snapshot(world.outlink), before, 'diagnose must change nothing');
    });

    it('answers in Japanese with ?lang=ja', async () => {
      const checks = await diagnose(world.linkId, 'ja');
      assert.match(only(checks, 'client_credentials')[0]!.message, /クライアント ID/);
    });

    it('tells a wrong client secret (invalid_client) from a good one', async () => {
      const linkId = await createLink({ clientSecret: 'not-the-secret' });
      const [credentials] = only(await diagnose(linkId), 'client_credentials');
      assert.equal(credentials?.status, 'fail');
      assert.match(credentials!.message, /rejects the client credentials: invalid_client/);
      assert.match(credentials!.remedy ?? '', /client secret/);
    });

    it('fails a redirect URL the provider does not know', async () => {
      // Another authorization endpoint (the proxy's) gives another redirect URL, which the
      // provider behind it never registered.
      const linkId = await createLink({
        authorizationEndpoint: world.proxy.via(world.as.endpoints.authorization),
      });
      const [redirect] = only(await diagnose(linkId), 'redirect_url');
      assert.equal(redirect?.status, 'fail', JSON.stringify(redirect));
      assert.match(redirect!.message, /does not know the redirect URL https:\/\/localhost:8443\//);
    });

    it('reports a scope added to the link after authorization as not granted', async () => {
      const linkId = await createLink({ name: 'Scopes later' });
      await authorizeAccount(world.outlink, world, linkId, ALICE);
      assert.deepEqual(statusOf(await diagnose(linkId), 'scopes'), ['pass']);
      await patch(linkId, { scopes: ['openid', 'email', 'offline_access', 'profile'] });
      const [scopes] = only(await diagnose(linkId), 'scopes');
      assert.equal(scopes?.status, 'fail');
      assert.match(scopes!.message, /alice@example\.test was not granted profile/);
    });

    it('warns about a connection authorized under another base URL', async () => {
      const before = await snapshot(world.outlink);
      await world.outlink.services.store.db
        .updateTable('connections')
        .set({ redirect_uri: 'https://old.example.test/oauth2/callback/x' })
        .where('id', '=', world.alice)
        .execute();
      try {
        const moved = only(await diagnose(world.linkId), 'redirect_url').filter(
          (c) => c.status === 'warn',
        );
        assert.equal(moved.length, 1);
        assert.equal(moved[0]!.subject, ALICE);
        assert.match(
          moved[0]!.message,
          /authorized with the redirect URL https:\/\/old\.example\.test/,
        );
      } finally {
        const row = JSON.parse(before.connections!.find((r) => r.includes(world.alice))!) as {
          redirect_uri: string;
        };
        await world.outlink.services.store.db
          .updateTable('connections')
          .set({ redirect_uri: row.redirect_uri })
          .where('id', '=', world.alice)
          .execute();
      }
    });

    it('fails a clock ten minutes off the provider, warns at two', async () => {
      try {
        skewMs = 10 * 60_000;
        const [skew] = only(await diagnose(world.linkId), 'clock_skew');
        assert.equal(skew?.status, 'fail');
        assert.match(skew!.message, /differs from the provider's by 60\d s/);
        skewMs = -2 * 60_000;
        assert.deepEqual(statusOf(await diagnose(world.linkId), 'clock_skew'), ['warn']);
      } finally {
        skewMs = 0;
      }
    });

    it('warns about a client secret expiring within 30 days, fails an expired one', async () => {
      const linkId = await createLink({ name: 'Expiring secret' });
      const inTenDays = new Date(Date.now() + 10.5 * 86_400_000).toISOString();
      await patch(linkId, { clientSecretExpiresAt: inTenDays });
      const [soon] = only(await diagnose(linkId), 'client_secret_expiry');
      assert.equal(soon?.status, 'warn');
      assert.match(soon!.message, /in 10 days/);
      await patch(linkId, {
        clientSecretExpiresAt: new Date(Date.now() - 86_400_000).toISOString(),
      });
      assert.deepEqual(statusOf(await diagnose(linkId), 'client_secret_expiry'), ['fail']);
    });

    it('fails an endpoint whose host does not resolve', async () => {
      const linkId = await createLink({
        name: 'Nowhere',
        tokenEndpoint: 'https://token.nowhere.invalid/token',
      });
      const tls = only(await diagnose(linkId), 'endpoint_tls').filter((c) => c.status === 'fail');
      assert.equal(tls.length, 1, JSON.stringify(tls));
      assert.equal(tls[0]!.subject, 'token.nowhere.invalid');
    });

    it('warns when the discovery document names other endpoints than the link', async () => {
      // The token endpoint through the fault proxy is not the one the issuer publishes.
      const linkId = await createLink({ name: 'Proxied', tokenEndpoint: world.tokenEndpoint });
      const [discovery] = only(await diagnose(linkId), 'discovery');
      assert.equal(discovery?.status, 'warn');
      assert.match(
        discovery!.message,
        /disagrees with the link: token_endpoint: https:\/\/127\.0\.0\.1:\d+\S* ≠ /,
      );
    });

    it('fails an endpoint whose certificate Outlink does not trust', async () => {
      // A CA of its own, which nothing in the world trusts.
      const stranger = await startHttpsPeer(jsonHandler({}), await createTestTls());
      try {
        const linkId = await createLink({
          name: 'Untrusted',
          tokenEndpoint: `${stranger.origin}/token`,
        });
        const checks = await diagnose(linkId);
        const [tls] = only(checks, 'endpoint_tls').filter((c) => c.status === 'fail');
        assert.equal(tls?.subject, `127.0.0.1:${stranger.port}`);
        assert.match(
          tls!.message,
          /does not present a certificate Outlink trusts: .*(certificate|CERT)/i,
        );
        assert.match(tls!.remedy ?? '', /NODE_EXTRA_CA_CERTS/);
      } finally {
        await stranger.close();
      }
    });

    it('fails a connection whose grant was revoked at the provider, changing nothing', async () => {
      const linkId = await createLink({ name: 'Revoked' });
      const connectionId = await authorizeAccount(world.outlink, world, linkId, ALICE);
      const { refreshToken } = await storedTokens(world, connectionId);
      await revokeToken(world, refreshToken!, 'refresh_token');
      const before = await snapshot(world.outlink);
      const [token] = only(await diagnose(linkId), 'connection_token');
      assert.equal(token?.status, 'fail', JSON.stringify(token));
      assert.match(
        token!.message,
        /^alice@example\.test: the provider refuses the access token .*invalid_token/,
      );
      assert.deepEqual(await snapshot(world.outlink), before, 'diagnose must change nothing');
    });

    it('answers 404 link_not_found for an unknown link', async () => {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links/00000000-0000-4000-8000-000000000000/diagnose',
        headers: admin,
      });
      assert.equal(res.statusCode, 404);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'link_not_found');
    });
  });
}
