import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { LinkView } from '../../src/schemas/links.js';
import type { TestDialect } from '../support/harness.js';
import { type OAuthWorld, startOAuthWorld, TEST_CLIENT } from '../support/worlds.js';
import { databaseEnv } from './cli-harness.js';

/**
 * What the CLI's OAuth commands need around them (layer 4 of test/support/worlds.ts): the
 * real authorization server (oidc-provider), a fault proxy in front of its token endpoint,
 * and an in-test Outlink app on the database the CLI uses, standing in for `outlink serve`:
 * the provider redirects the browser there, and the test delivers that redirect with
 * `app.inject`.
 */
export interface OAuthFixture extends OAuthWorld {
  /** The CLI's environment: the shared database and data dir, and the test CA trusted. */
  readonly env: Record<string, string>;
  /** A custom link for the test client; its token endpoint goes through the proxy. */
  createLink(): Promise<LinkView>;
  /** The provider's redirect delivered to the in-test server, as the browser would. */
  deliver(callback: URL): Promise<LightMyRequestResponse>;
  /** The whole dance through the in-test server's services; the new connection's id. */
  authorize(linkId: string, email: string): Promise<string>;
  /** A token as `GET /api/v1/connections/:id/token` returns it. */
  apiToken(connectionId: string): Promise<{ accessToken: string; account: string }>;
}

export async function startOAuthFixture(dialect: TestDialect): Promise<OAuthFixture> {
  // Outlink's default base URL: the redirect the CLI prints and the app serves.
  const world = await startOAuthWorld(dialect);
  const { as, proxy, outlink } = world;
  // The child CLI's global fetch trusts the test CA the way a deployment trusts a provider's.
  const caFile = join(outlink.database.dataDir, 'test-ca.pem');
  writeFileSync(caFile, as.caPem);
  const env = databaseEnv(outlink.database, { NODE_EXTRA_CA_CERTS: caFile });

  const fixture: OAuthFixture = {
    ...world,
    env,
    async createLink() {
      const { link } = await outlink.services.links.create(
        { kind: 'cli' },
        {
          name: `Mailbox ${randomBytes(3).toString('hex')}`,
          provider: 'custom',
          clientId: TEST_CLIENT.clientId,
          clientSecret: TEST_CLIENT.clientSecret,
          scopes: ['openid', 'email', 'offline_access'],
          authorizationEndpoint: as.endpoints.authorization,
          tokenEndpoint: proxy.via(as.endpoints.token),
        },
      );
      return link;
    },
    deliver: (callback) =>
      outlink.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` }),
    async authorize(linkId, email) {
      const { flowId, authorizationUrl } = await outlink.services.flows.start(
        { kind: 'cli' },
        linkId,
      );
      const page = await fixture.deliver(await as.login(authorizationUrl, { email }));
      const outcome = await outlink.services.flows.get(flowId);
      if (page.statusCode !== 200 || !outcome.connectionId) {
        throw new Error(`authorization failed: ${page.statusCode} ${JSON.stringify(outcome)}`);
      }
      return outcome.connectionId;
    },
    async apiToken(connectionId) {
      const res = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${connectionId}/token`,
        headers: await outlink.tokenHeaders(),
      });
      if (res.statusCode !== 200) throw new Error(`token API: ${res.statusCode} ${res.body}`);
      return res.json();
    },
  };
  return fixture;
}
