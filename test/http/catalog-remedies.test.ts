/**
 * The error catalog on the connection and in diagnose (issue 13 item 2), through the real
 * oidc-provider: a link whose client secret is wrong gets `invalid_client` from the token
 * endpoint, and the connection and diagnose both show the provider's own error next to the
 * catalog's cause and remedy, the same text the troubleshooting guide prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { translate } from '../../src/i18n/i18n.js';
import { troubleshootingGuide } from '../../src/presenters/troubleshooting-guide.js';
import { Dialects } from '../support/harness.js';
import { type AuthorizedWorld, startAuthorizedWorld, TEST_CLIENT } from '../support/worlds.js';

const WRONG_SECRET = 'not-the-client-secret-at-all';

for (const dialect of Dialects) {
  describe(`a wrong client secret at oidc-provider, read by the error catalog, on ${dialect}`, () => {
    let world: AuthorizedWorld;
    let admin: Record<string, string>;
    const api = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
      world.outlink.app.inject({
        method,
        url,
        headers: admin,
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });

    before(async () => {
      world = await startAuthorizedWorld(dialect);
      admin = await world.outlink.adminHeaders();
      const res = await api('PATCH', `/api/v1/links/${world.linkId}`, {
        clientSecret: WRONG_SECRET,
      });
      assert.equal(res.statusCode, 200, res.body);
    });
    after(() => world?.close());

    it("the connection: the provider's invalid_client with the catalog's cause and remedy", async () => {
      const refreshed = await api('POST', `/api/v1/connections/${world.alice}/refresh`);
      assert.equal(refreshed.statusCode >= 400, true, refreshed.body);
      for (const lang of ['en', 'ja'] as const) {
        const res = await api('GET', `/api/v1/connections/${world.alice}?lang=${lang}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as {
          status: string;
          lastError?: Record<string, string>;
        };
        assert.equal(body.status, 'reauthorization_required');
        const { at, providerDescription, ...error } = body.lastError ?? {};
        assert.deepEqual(error, {
          code: 'invalid_client',
          scope: 'link',
          message: translate(lang, 'providerErrors.invalid_client.cause'),
          remedy: translate(lang, 'providerErrors.invalid_client.remedy'),
          providerError: 'invalid_client',
        });
        // oidc-provider's own description, as it sent it.
        assert.equal(providerDescription, 'client authentication failed');
        // The guide prints the same remedy.
        assert.ok(troubleshootingGuide(lang).includes(error.remedy!));
        assert.ok(!res.body.includes(WRONG_SECRET) && !res.body.includes(TEST_CLIENT.clientSecret));
      }
    });

    it("diagnose: the client credentials check and the connection show the catalog's remedy", async () => {
      const res = await api('POST', `/api/v1/links/${world.linkId}/diagnose`);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(!res.body.includes(WRONG_SECRET));
      const checks = (
        res.json() as {
          checks: {
            id: string;
            status: string;
            subject?: string;
            message: string;
            remedy?: string;
          }[];
        }
      ).checks;
      const remedy = translate('en', 'providerErrors.invalid_client.remedy');
      const credentials = checks.find((c) => c.id === 'client_credentials');
      assert.equal(credentials?.status, 'fail');
      assert.match(credentials?.message ?? '', /invalid_client: client authentication failed/);
      assert.equal(credentials?.remedy, remedy);
      const alice = checks.find((c) => c.id === 'connection_token' && c.status === 'fail');
      assert.ok(alice, JSON.stringify(checks, null, 1));
      assert.match(
        alice.message,
        /the provider said: invalid_client: client authentication failed/,
      );
      assert.equal(alice.remedy, remedy);
    });
  });
}
