import type { Kysely } from 'kysely';
import type { Clock } from '../../src/domain/clock.js';
import { redirectUrlFor } from '../../src/domain/link.js';
import type { Database } from '../../src/store/schema.js';
import { type FaultProxy, startFaultProxy } from '../peers/fault-proxy.js';
import { type AuthorizationServer, startAuthorizationServer } from '../peers/oidc-provider.js';
import type { TestOutlink } from './harness.js';

/** The client Outlink is registered as at the test authorization server. */
export const TEST_CLIENT = Object.freeze({
  clientId: 'outlink-test',
  clientSecret: 'outlink-test-client-secret-0123456789',
});

/** Outlink's base URL when the harness does not set one (the config default). */
export const DEFAULT_BASE_URL = 'https://localhost:8443';

/**
 * oidc-provider with a fault proxy in front of its token endpoint: links made by
 * `createTestLink` send their token requests through the proxy, so tests count them
 * (`proxy.count(tokenPath)`) and inject faults.
 */
export interface TestProvider {
  readonly as: AuthorizationServer;
  readonly proxy: FaultProxy;
  /** The token endpoint's path, as the proxy counts it. */
  readonly tokenPath: string;
  /** The token endpoint as links call it (through the proxy). */
  readonly tokenEndpoint: string;
  close(): Promise<void>;
}

export async function startTestProvider(options: {
  readonly accounts: readonly string[];
  readonly accessTokenTtl?: number;
  readonly baseUrl?: string;
}): Promise<TestProvider> {
  const baseUrl = new URL(options.baseUrl ?? DEFAULT_BASE_URL);
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => [
      { ...TEST_CLIENT, redirectUris: [redirectUrlFor(baseUrl, endpoints.authorization)] },
    ],
    accounts: options.accounts.map((email) => ({ email })),
    accessTokenTtl: options.accessTokenTtl,
  });
  const proxy = await startFaultProxy(as.issuer);
  return {
    as,
    proxy,
    tokenPath: new URL(as.endpoints.token).pathname,
    tokenEndpoint: proxy.via(as.endpoints.token),
    async close() {
      await proxy.close();
      await as.close();
    },
  };
}

/**
 * A custom link to the test provider, its token endpoint behind the proxy (benchmarks pass
 * `{as, tokenEndpoint: as.endpoints.token}` to go direct); returns the link's id.
 */
export async function createTestLink(
  outlink: TestOutlink,
  provider: Pick<TestProvider, 'as' | 'tokenEndpoint'>,
  name = `Test AS ${Math.random().toString(36).slice(2, 8)}`,
): Promise<string> {
  const res = await outlink.app.inject({
    method: 'POST',
    url: '/api/v1/links',
    headers: await outlink.adminHeaders(),
    payload: {
      name,
      provider: 'custom',
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      scopes: ['openid', 'email', 'offline_access'],
      issuer: provider.as.issuer,
      authorizationEndpoint: provider.as.endpoints.authorization,
      tokenEndpoint: provider.tokenEndpoint,
    },
  });
  if (res.statusCode !== 201) throw new Error(`link create: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

/**
 * The whole dance for one account: start the flow over the API, sign in at the provider
 * (scripted browser), deliver the callback with the admin's cookie. Returns the connection.
 */
export async function authorizeAccount(
  outlink: TestOutlink,
  provider: Pick<TestProvider, 'as'>,
  linkId: string,
  email: string,
): Promise<string> {
  const headers = await outlink.adminHeaders();
  const started = await outlink.app.inject({
    method: 'POST',
    url: `/api/v1/links/${linkId}/authorizations`,
    headers,
    payload: {},
  });
  if (started.statusCode !== 201)
    throw new Error(`authorize: ${started.statusCode} ${started.body}`);
  const { flowId, authorizationUrl } = started.json() as {
    flowId: string;
    authorizationUrl: string;
  };
  const callback = await provider.as.login(authorizationUrl, { email });
  await outlink.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie: headers.cookie ?? '' },
  });
  const outcome = await outlink.app.inject({
    method: 'GET',
    url: `/api/v1/authorizations/${flowId}`,
    headers,
  });
  const body = outcome.json() as { status: string; connectionId?: string };
  if (body.status !== 'succeeded' || !body.connectionId)
    throw new Error(`authorization of ${email} failed: ${outcome.body}`);
  return body.connectionId;
}

/** Moves a connection's stored expiry to `msAgo` before `clock`'s now: its token is stale. */
export async function expireToken(
  db: Kysely<Database>,
  connectionId: string,
  clock: Clock,
  msAgo = 60_000,
): Promise<void> {
  await db
    .updateTable('connections')
    .set({ expires_at: new Date(clock.now().getTime() - msAgo).toISOString() })
    .where('id', '=', connectionId)
    .execute();
}
