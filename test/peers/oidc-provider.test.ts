import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { redirectUrlFor } from '../../src/domain/link.js';
import { type AuthorizationServer, startAuthorizationServer } from './oidc-provider.js';

/** Outlink's redirect URI for this server, known only once it listens (DESIGN §4). */
let REDIRECT_URI = '';
const client = { client_id: 'outlink' };
const clientAuth = oauth.ClientSecretPost('outlink-secret');
const mailServer = { client_id: 'dovecot' };
const mailServerAuth = oauth.ClientSecretBasic('dovecot-secret');

/** A printed line from the peer would drown test output: everything is captured and checked. */
const printed: string[] = [];
const consoleMethods = ['log', 'info', 'warn', 'error'] as const;
const originals = consoleMethods.map((m) => console[m]);

describe('test peer: oidc-provider authorization server', () => {
  let as: AuthorizationServer;
  let server: oauth.AuthorizationServer;
  const opts = () => ({ [oauth.customFetch]: as.fetch });

  before(async () => {
    for (const m of consoleMethods)
      console[m] = (...args: unknown[]) => printed.push(args.join(' '));
    as = await startAuthorizationServer({
      clients: ({ endpoints }) => {
        REDIRECT_URI = redirectUrlFor(new URL('https://localhost:8443'), endpoints.authorization);
        return [
          {
            clientId: 'outlink',
            clientSecret: 'outlink-secret',
            redirectUris: [REDIRECT_URI],
          },
          {
            clientId: 'dovecot',
            clientSecret: 'dovecot-secret',
            redirectUris: ['https://localhost/unused'],
            tokenEndpointAuthMethod: 'client_secret_basic',
          },
        ];
      },
      accounts: [
        { email: 'alice@example.test', name: 'Alice' },
        { email: 'bob@example.test', password: 'bobs own password' },
      ],
    });
    const issuer = new URL(as.issuer);
    server = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, opts()),
    );
  });

  after(async () => {
    await as?.close();
    consoleMethods.forEach((m, i) => {
      console[m] = originals[i]!;
    });
  });

  /** Runs the dance up to the callback URL; `prompt=consent` so a refresh token comes too. */
  const authorize = async (email: string, extra: { password?: string; consent?: boolean } = {}) => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.endpoints.authorization);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email offline_access',
      prompt: 'consent',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await as.login(url, { email, ...extra });
    return { callback, state, verifier };
  };

  const tokensFor = async (email: string, password?: string) => {
    const { callback, state, verifier } = await authorize(email, { password });
    const params = oauth.validateAuthResponse(server, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      clientAuth,
      params,
      REDIRECT_URI,
      verifier,
      opts(),
    );
    return oauth.processAuthorizationCodeResponse(server, client, response);
  };

  const refresh = async (refreshToken: string) =>
    oauth.processRefreshTokenResponse(
      server,
      client,
      await oauth.refreshTokenGrantRequest(server, client, clientAuth, refreshToken, opts()),
    );

  const introspect = async (token: string) =>
    oauth.processIntrospectionResponse(
      server,
      mailServer,
      await oauth.introspectionRequest(server, mailServer, mailServerAuth, token, opts()),
    );

  it('serves a discovery document for its https://127.0.0.1 issuer with every endpoint', () => {
    assert.match(as.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.issuer, as.issuer);
    assert.equal(server.authorization_endpoint, as.endpoints.authorization);
    assert.equal(server.token_endpoint, as.endpoints.token);
    assert.equal(server.introspection_endpoint, as.endpoints.introspection);
    assert.equal(server.revocation_endpoint, as.endpoints.revocation);
    assert.equal(server.authorization_response_iss_parameter_supported, true);
    assert.ok(server.scopes_supported?.includes('email'));
  });

  it('signs a user in and issues tokens whose ID token names the account by email', async () => {
    const tokens = await tokensFor('alice@example.test');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'offline_access with prompt=consent gives a refresh token');
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    assert.equal(claims?.email, 'alice@example.test');
    assert.equal(claims?.sub, 'alice@example.test');
  });

  it('returns iss in the authorization response (RFC 9207)', async () => {
    const { callback } = await authorize('alice@example.test');
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    assert.equal(callback.searchParams.get('iss'), as.issuer);
    assert.ok(callback.searchParams.get('code'));
  });

  it('rotates the refresh token on every use and revokes the grant when an old one is reused', async () => {
    const first = await tokensFor('alice@example.test');
    const second = await refresh(first.refresh_token!);
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    await assert.rejects(refresh(first.refresh_token!), (error: unknown) => {
      assert.ok(error instanceof oauth.ResponseBodyError);
      assert.equal(error.error, 'invalid_grant');
      return true;
    });
    // Reuse of a consumed token kills the whole grant, the rotated token included.
    await assert.rejects(refresh(second.refresh_token!), oauth.ResponseBodyError);
  });

  it('holds token endpoint requests for the latency set, then answers them whole', async () => {
    const first = await tokensFor('alice@example.test');
    const grants = as.tokenRequests;
    const held = 1_000;
    as.setTokenLatency(held);
    let start = performance.now();
    let second: Awaited<ReturnType<typeof refresh>>;
    try {
      second = await refresh(first.refresh_token!);
    } finally {
      as.setTokenLatency(0);
    }
    assert.ok(performance.now() - start >= held - 5, 'the answer came after the latency');
    assert.ok(second.access_token && second.refresh_token);
    start = performance.now();
    const third = await refresh(second.refresh_token);
    assert.ok(performance.now() - start < held, 'cleared: no longer held');
    assert.ok(third.access_token);
    assert.equal(as.tokenRequests, grants + 2, 'each refresh counted once');
  });

  it('answers introspection from another client with the account, and inactive after revocation', async () => {
    const tokens = await tokensFor('bob@example.test', 'bobs own password');
    const active = await introspect(tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.email, 'bob@example.test');
    assert.equal(active.sub, 'bob@example.test');
    assert.equal(active.token_type, 'Bearer');

    const revoked = await oauth.revocationRequest(
      server,
      client,
      clientAuth,
      tokens.access_token,
      opts(),
    );
    await oauth.processRevocationResponse(revoked);
    assert.deepEqual(await introspect(tokens.access_token), { active: false });
  });

  it('refuses a wrong password and reports a denied consent to the client', async () => {
    await assert.rejects(authorize('alice@example.test', { password: 'wrong' }), /login refused/);
    const { callback } = await authorize('alice@example.test', { consent: false });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('iss'), as.issuer);
  });

  it('keeps its own logging quiet', () => {
    assert.deepEqual(printed, []);
  });
});
