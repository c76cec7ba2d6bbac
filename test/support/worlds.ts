import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import * as oauth from 'oauth4webapi';
import type { Clock } from '../../src/domain/clock.js';
import { redirectUrlFor } from '../../src/domain/link.js';
import type { Database } from '../../src/store/schema.js';
import { type FaultProxy, startFaultProxy } from '../peers/fault-proxy.js';
import {
  type AuthorizationServer,
  type PeerAccount,
  startAuthorizationServer,
} from '../peers/oidc-provider.js';
import { type StartOptions, startOutlink, type TestDialect, type TestOutlink } from './harness.js';

/**
 * The test worlds: the accounts and clients every test uses, defined once here, and the
 * layers a world is built of, each adding one real peer to the one below.
 *
 * 1. a database only                  `createTestDatabase(dialect)`         harness.ts
 * 2. + Outlink's services, its app    `startServices`, `startOutlink`       harness.ts
 * 3. + oidc-provider (fault proxy)    `startTestProvider()`                 here
 * 4. + Outlink as its client          `startOAuthWorld(dialect)`            here
 * 5. + a link, ALICE and BOB in it    `startAuthorizedWorld(dialect)`       here
 * 6. + Dovecot checking its tokens    `startTestDovecot(provider)`;         mail-world.ts
 *                                     `startMailWorld()` is 3 + 6, without Outlink
 *
 * Each area's helpers are thin layers over these: test/oauth/dance-support.ts (the dance's
 * API calls, a manual clock), test/cli/oauth-fixture.ts (the CLI's environment),
 * test/mail/mail-servers-world.ts (5 + 6 and the mail-server API) and
 * test/ui/browser/support.ts (Outlink served to Chromium).
 */

/** Accounts at the test provider: each is a mailbox at Dovecot too. */
export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
/** A mailbox that also has a password at Dovecot (USER/PASS) where a world gives it one. */
export const CAROL = 'carol@example.test';
export const CAROL_PASSWORD = 'carols mail password';
/** Who can sign in at the test provider unless a test names its own accounts. */
export const TEST_ACCOUNTS: readonly string[] = Object.freeze([ALICE, BOB, CAROL]);

/**
 * The client Outlink is registered as at the test provider: every test link uses it. Some
 * tests spell it out (a revocation as `outlink`; no page may show `outlink-client-secret`).
 */
export const TEST_CLIENT = Object.freeze({
  clientId: 'outlink',
  clientSecret: 'outlink-client-secret',
});

/**
 * A mail server's own client at the test provider, for RFC 7662 introspection with the
 * secret in the body (`client_secret_post`, Dovecot's `introspection_mode = post`).
 */
export const INTROSPECTOR = Object.freeze({
  clientId: 'dovecot',
  clientSecret: 'dovecot-introspection-secret',
});

/** Outlink's base URL when a world does not set one (the config default). */
export const DEFAULT_BASE_URL = 'https://localhost:8443';

/**
 * Layer 3: oidc-provider with TEST_CLIENT and INTROSPECTOR registered, and a fault proxy
 * in front of its token endpoint: links made by `createTestLink` send their token requests
 * through the proxy, so tests count them (`proxy.count(tokenPath)`) and inject faults.
 */
export interface TestProvider {
  readonly as: AuthorizationServer;
  readonly proxy: FaultProxy;
  /** The token endpoint's path, as the proxy counts it. */
  readonly tokenPath: string;
  /** The token endpoint as links call it (through the proxy). */
  readonly tokenEndpoint: string;
  /** TEST_CLIENT's redirect URI: Outlink's callback at the world's base URL. */
  readonly redirectUri: string;
  close(): Promise<void>;
}

export interface TestProviderOptions {
  /** Who can sign in (default `TEST_ACCOUNTS`): an email, or an account with its own claims. */
  readonly accounts?: readonly (string | PeerAccount)[];
  /** Access token lifetime in seconds (default 3600). */
  readonly accessTokenTtl?: number;
  /** Outlink's base URL, which TEST_CLIENT's redirect URI names (default `DEFAULT_BASE_URL`). */
  readonly baseUrl?: string;
}

export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const baseUrl = new URL(options.baseUrl ?? DEFAULT_BASE_URL);
  let redirectUri = '';
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => {
      redirectUri = redirectUrlFor(baseUrl, endpoints.authorization);
      return [
        { ...TEST_CLIENT, redirectUris: [redirectUri] },
        { ...INTROSPECTOR, redirectUris: ['https://localhost/unused'] },
      ];
    },
    accounts: (options.accounts ?? TEST_ACCOUNTS).map((a) =>
      typeof a === 'string' ? { email: a } : a,
    ),
    accessTokenTtl: options.accessTokenTtl,
  });
  let proxy: FaultProxy;
  try {
    proxy = await startFaultProxy(as.issuer);
  } catch (error) {
    await as.close();
    throw error;
  }
  return {
    as,
    proxy,
    tokenPath: new URL(as.endpoints.token).pathname,
    tokenEndpoint: proxy.via(as.endpoints.token),
    redirectUri,
    async close() {
      await proxy.close();
      await as.close();
    },
  };
}

/**
 * An access token the provider issued to `email` for TEST_CLIENT through the authorization
 * code flow with PKCE, fetched directly, as any client of the provider would.
 */
export async function issueAccessToken(
  provider: Pick<TestProvider, 'as' | 'redirectUri'>,
  email: string,
): Promise<string> {
  const { as, redirectUri } = provider;
  const issuer = new URL(as.issuer);
  const fetchOptions = { [oauth.customFetch]: as.fetch };
  const server = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, fetchOptions),
  );
  const client: oauth.Client = { client_id: TEST_CLIENT.clientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: TEST_CLIENT.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const callback = await as.login(url, { email });
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.ClientSecretPost(TEST_CLIENT.clientSecret),
    oauth.validateAuthResponse(server, client, callback, state),
    redirectUri,
    verifier,
    fetchOptions,
  );
  return (await oauth.processAuthorizationCodeResponse(server, client, response)).access_token;
}

/**
 * RFC 7009 revocation of a token at the provider, as TEST_CLIENT. oidc-provider then
 * revokes every token of the grant, the refresh token included.
 */
export async function revokeToken(
  provider: Pick<TestProvider, 'as'>,
  token: string,
  hint?: 'access_token' | 'refresh_token',
): Promise<void> {
  const { as } = provider;
  const res = await as.fetch(as.endpoints.revocation, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      ...(hint ? { token_type_hint: hint } : {}),
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
    }).toString(),
  });
  assert.equal(res.status, 200, await res.text());
}

/** RFC 7662 introspection at the provider, as a mail server's client (INTROSPECTOR). */
export async function introspect(
  provider: Pick<TestProvider, 'as'>,
  token: string,
): Promise<{ active: boolean } & Record<string, unknown>> {
  const { as } = provider;
  const res = await as.fetch(as.endpoints.introspection, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      client_id: INTROSPECTOR.clientId,
      client_secret: INTROSPECTOR.clientSecret,
    }).toString(),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { active: boolean } & Record<string, unknown>;
}

/** Layer 4: Outlink over a database of its own, a client of the test provider. */
export interface OAuthWorld extends TestProvider {
  readonly outlink: TestOutlink;
  /** Closes Outlink (dropping its database), then the provider. */
  close(): Promise<void>;
}

export interface OAuthWorldOptions extends TestProviderOptions {
  /** How Outlink starts: by default with a `fetch` that trusts the provider's CA. */
  readonly outlink?: StartOptions;
}

/** Starts the provider, then Outlink (with `OUTLINK_BASE_URL` set when `baseUrl` is given). */
export async function startOAuthWorld(
  dialect: TestDialect,
  options: OAuthWorldOptions = {},
): Promise<OAuthWorld> {
  const provider = await startTestProvider(options);
  try {
    const outlink = await startOutlink(dialect, {
      fetch: provider.as.fetch,
      ...options.outlink,
      env: {
        ...(options.baseUrl ? { OUTLINK_BASE_URL: options.baseUrl } : {}),
        ...options.outlink?.env,
      },
    });
    return {
      ...provider,
      outlink,
      async close() {
        await outlink.close();
        await provider.close();
      },
    };
  } catch (error) {
    await provider.close();
    throw error;
  }
}

/** Layer 5: a link of Outlink to the provider, with ALICE and BOB authorized in it. */
export interface AuthorizedWorld extends OAuthWorld {
  /** A custom link for TEST_CLIENT; its token requests go straight to the provider. */
  readonly linkId: string;
  /** ALICE's connection, authorized through the real code flow. */
  readonly alice: string;
  /** BOB's connection, authorized after ALICE's. */
  readonly bob: string;
}

export interface AuthorizedWorldOptions extends OAuthWorldOptions {
  /** The link's name (default `Test AS`). */
  readonly linkName?: string;
  /** The link's scopes (default `openid email offline_access`). */
  readonly scopes?: readonly string[];
}

export async function startAuthorizedWorld(
  dialect: TestDialect,
  options: AuthorizedWorldOptions = {},
): Promise<AuthorizedWorld> {
  const world = await startOAuthWorld(dialect, options);
  try {
    const direct = { as: world.as, tokenEndpoint: world.as.endpoints.token };
    const res = await world.outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await world.outlink.adminHeaders(),
      payload: testLinkBody(direct, {
        name: options.linkName ?? 'Test AS',
        ...(options.scopes ? { scopes: [...options.scopes] } : {}),
      }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const linkId = (res.json() as { id: string }).id;
    const alice = await authorizeAccount(world.outlink, world, linkId, ALICE);
    const bob = await authorizeAccount(world.outlink, world, linkId, BOB);
    return { ...world, linkId, alice, bob };
  } catch (error) {
    await world.close();
    throw error;
  }
}

/**
 * The body of `POST /api/v1/links` for a custom link to the test provider as TEST_CLIENT,
 * its token endpoint `provider.tokenEndpoint` (the proxy's, or the provider's own).
 */
export function testLinkBody(
  provider: Pick<TestProvider, 'as' | 'tokenEndpoint'>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: `Test AS ${Math.random().toString(36).slice(2, 10)}`,
    provider: 'custom',
    clientId: TEST_CLIENT.clientId,
    clientSecret: TEST_CLIENT.clientSecret,
    scopes: ['openid', 'email', 'offline_access'],
    issuer: provider.as.issuer,
    authorizationEndpoint: provider.as.endpoints.authorization,
    tokenEndpoint: provider.tokenEndpoint,
    ...overrides,
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
    payload: testLinkBody(provider, { name }),
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

/** The stored tokens of a connection, decrypted as the token service does. */
export async function storedTokens(
  world: { readonly outlink: TestOutlink },
  connectionId: string,
): Promise<{ accessToken: string; refreshToken: string | null; version: number }> {
  const row = await world.outlink.services.store.db
    .selectFrom('connections')
    .selectAll()
    .where('id', '=', connectionId)
    .executeTakeFirstOrThrow();
  const { cipher } = world.outlink.services;
  assert.ok(row.access_token_enc);
  return {
    accessToken: cipher.decrypt(row.access_token_enc, `connections.access_token:${row.id}`),
    refreshToken: row.refresh_token_enc
      ? cipher.decrypt(row.refresh_token_enc, `connections.refresh_token:${row.id}`)
      : null,
    version: row.token_version,
  };
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
