import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { LinkView } from '../../src/schemas/links.js';
import type { TestDialect } from '../support/harness.js';
import {
  type OAuthWorld,
  type OAuthWorldOptions,
  startOAuthWorld,
  TEST_CLIENT,
} from '../support/worlds.js';
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
  /**
   * The browser opening the one-time start URL the CLI printed (issue 11): where it is sent
   * (the provider) and the flow-binding cookie it got, as a Cookie header.
   */
  open(startUrl: string): Promise<{ providerUrl: string; cookie: string }>;
  /** The provider's redirect delivered to the in-test server, as the browser would. */
  deliver(callback: URL, cookie?: string): Promise<LightMyRequestResponse>;
  /** The whole dance through the in-test server's services; the new connection's id. */
  authorize(linkId: string, email: string): Promise<string>;
  /** A token as `GET /api/v1/connections/:id/token` returns it. */
  apiToken(connectionId: string): Promise<{ accessToken: string; account: string }>;
}

export async function startOAuthFixture(
  dialect: TestDialect,
  options: Pick<OAuthWorldOptions, 'accounts'> = {},
): Promise<OAuthFixture> {
  // Outlink's default base URL: the redirect the CLI prints and the app serves.
  const world = await startOAuthWorld(dialect, options);
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
    async open(startUrl) {
      const opened = await outlink.app.inject({ method: 'GET', url: new URL(startUrl).pathname });
      if (opened.statusCode !== 303) {
        throw new Error(`start URL: ${opened.statusCode} ${opened.body}`);
      }
      return {
        providerUrl: String(opened.headers.location),
        cookie: opened.cookies.map((c) => `${c.name}=${c.value}`).join('; '),
      };
    },
    deliver: (callback, cookie) =>
      outlink.app.inject({
        method: 'GET',
        url: `${callback.pathname}${callback.search}`,
        ...(cookie ? { headers: { cookie } } : {}),
      }),
    async authorize(linkId, email) {
      const { flowId, authorizationUrl } = await outlink.services.flows.start(
        { kind: 'cli' },
        linkId,
      );
      // A CLI-started flow answers Outlink's one-time start URL (issue 11): the browser opens
      // it, takes the flow-binding cookie and the redirect to the provider, and comes back.
      const { providerUrl, cookie } = await fixture.open(authorizationUrl);
      const page = await fixture.deliver(await as.login(providerUrl, { email }), cookie);
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
