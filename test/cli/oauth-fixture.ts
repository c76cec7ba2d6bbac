import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { redirectUrlFor } from '../../src/domain/link.js';
import type { LinkView } from '../../src/schemas/links.js';
import { type FaultProxy, startFaultProxy } from '../peers/fault-proxy.js';
import { type AuthorizationServer, startAuthorizationServer } from '../peers/oidc-provider.js';
import { startOutlink, type TestDialect, type TestOutlink } from '../support/harness.js';
import { databaseEnv } from './cli-harness.js';

export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
const CLIENT_ID = 'outlink-cli';
const CLIENT_SECRET = 'outlink-cli-client-secret-5e1d';

/**
 * What the CLI's OAuth commands need around them: the real authorization server
 * (oidc-provider), a fault proxy in front of its token endpoint, and an in-test Outlink app on
 * the database the CLI uses, standing in for `outlink serve`: the provider redirects the
 * browser there, and the test delivers that redirect with `app.inject`.
 */
export interface OAuthFixture {
  readonly as: AuthorizationServer;
  readonly proxy: FaultProxy;
  readonly outlink: TestOutlink;
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
  close(): Promise<void>;
}

export async function startOAuthFixture(dialect: TestDialect): Promise<OAuthFixture> {
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        // Outlink's default base URL: the redirect the CLI prints and the app serves.
        redirectUris: [redirectUrlFor(new URL('https://localhost:8443'), endpoints.authorization)],
      },
    ],
    accounts: [{ email: ALICE }, { email: BOB }],
  });
  const proxy = await startFaultProxy(as.issuer);
  const outlink = await startOutlink(dialect, { fetch: as.fetch });
  // The child CLI's global fetch trusts the test CA the way a deployment trusts a provider's.
  const caFile = join(outlink.database.dataDir, 'test-ca.pem');
  writeFileSync(caFile, as.caPem);
  const env = databaseEnv(outlink.database, { NODE_EXTRA_CA_CERTS: caFile });

  const fixture: OAuthFixture = {
    as,
    proxy,
    outlink,
    env,
    async createLink() {
      const { link } = await outlink.services.links.create(
        { kind: 'cli' },
        {
          name: `Mailbox ${randomBytes(3).toString('hex')}`,
          provider: 'custom',
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
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
    async close() {
      await outlink.close();
      await proxy.close();
      await as.close();
    },
  };
  return fixture;
}
