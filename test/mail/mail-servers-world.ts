import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { redirectUrlFor } from '../../src/domain/link.js';
import type { MailTimeouts } from '../../src/mail/endpoint.js';
import type { TestReport } from '../../src/schemas/mail-servers.js';
import { type TestTls, testTls } from '../peers/ca.js';
import { type DovecotOptions, type DovecotPeer, startDovecot } from '../peers/dovecot.js';
import { type AuthorizationServer, startAuthorizationServer } from '../peers/oidc-provider.js';
import {
  authorizeAccount,
  createTestLink,
  DEFAULT_BASE_URL,
  TEST_CLIENT,
} from '../support/authorized.js';
import { startOutlink, type TestDialect, type TestOutlink } from '../support/harness.js';

export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
export const CAROL = 'carol@example.test';
export const CAROL_PASSWORD = 'carols mail password';

/** Dovecot's own client at the AS, for RFC 7662 introspection (`introspection_mode = post`). */
const INTROSPECTOR = { clientId: 'dovecot', clientSecret: 'dovecot-introspection-secret' };

/**
 * Outlink on a real database with a link to the test authorization server (oidc-provider) and
 * connections for ALICE and BOB authorized through the real code flow, and Dovecot validating
 * the tokens that server issued by introspection: the mail server routes end to end.
 */
export interface OutlinkMailWorld {
  readonly as: AuthorizationServer;
  /** Dovecot with TLS (imaps, pop3s, submissions, STARTTLS) and both mechanisms. */
  readonly dovecot: DovecotPeer;
  readonly tls: TestTls;
  readonly outlink: TestOutlink;
  readonly linkId: string;
  readonly alice: string;
  readonly bob: string;
  /**
   * Another Dovecot against the same AS (stopped by `close()`); `introspection` overrides
   * settings of its token check (a required `scope`, a broken `url`).
   */
  startDovecot(
    options?: Omit<DovecotOptions, 'introspection'> & {
      introspection?: Partial<DovecotOptions['introspection']>;
    },
  ): Promise<DovecotPeer>;
  /** Introspection settings for a Dovecot the test starts itself. */
  readonly introspection: DovecotOptions['introspection'];
  /** `POST /api/v1/mail-servers`, asserting 201; the body as returned. */
  createServer(body: Record<string, unknown>): Promise<MailServerJson>;
  /** `POST /api/v1/mail-servers/:id/test`, asserting 200. */
  test(id: string, body?: Record<string, unknown>): Promise<TestReport>;
  /** An admin API request. */
  api(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  /**
   * RFC 7009 revocation of a stored token of a connection, as Outlink's client. oidc-provider
   * then revokes every token of the grant, the refresh token included.
   */
  revoke(connectionId: string, which: 'access_token' | 'refresh_token'): Promise<void>;
  /**
   * The provider drops the connection's stored access token alone (as a provider does after a
   * security event): introspection says inactive, while the refresh token still works.
   */
  invalidateAccessToken(connectionId: string): Promise<void>;
  /** The stored tokens of a connection, decrypted. */
  storedTokens(
    connectionId: string,
  ): Promise<{ accessToken: string; refreshToken: string | null; version: number }>;
  close(): Promise<void>;
}

/** A mail server as the API returns it (the fields the tests read). */
export interface MailServerJson {
  id: string;
  name: string;
  protocol: string;
  host: string;
  port: number;
  security: string;
  username: string;
  authentication: Record<string, unknown>;
  saslMechanism: string | null;
  folder: string | null;
  pollIntervalSeconds: number | null;
  processedAction: string | null;
  processedFolder: string | null;
  preset: string | null;
  createdAt: string;
  updatedAt: string;
  warnings?: { code: string; message: string }[];
}

export async function startOutlinkMailWorld(
  options: {
    dialect?: TestDialect;
    /** The link's scopes (default `openid email offline_access`). */
    scopes?: readonly string[];
    /** Outlink's mail step timeouts (default: short, for a fast failing test). */
    mailTimeouts?: Partial<MailTimeouts>;
  } = {},
): Promise<OutlinkMailWorld> {
  const tls = await testTls();
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => [
      {
        ...TEST_CLIENT,
        redirectUris: [redirectUrlFor(new URL(DEFAULT_BASE_URL), endpoints.authorization)],
      },
      { ...INTROSPECTOR, redirectUris: ['https://localhost/unused'] },
    ],
    accounts: [{ email: ALICE }, { email: BOB }, { email: CAROL }],
  });
  const introspection: DovecotOptions['introspection'] = {
    url: as.endpoints.introspection,
    clientId: INTROSPECTOR.clientId,
    clientSecret: INTROSPECTOR.clientSecret,
    caPem: as.caPem,
    openidConfigurationUrl: as.endpoints.discovery,
  };
  const peers: DovecotPeer[] = [];
  let outlink: TestOutlink | undefined;
  const close = async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await outlink?.close();
    await as.close();
  };
  try {
    peers.push(
      await startDovecot({
        introspection,
        tls,
        passwordUsers: [{ user: CAROL, password: CAROL_PASSWORD }],
      }),
    );
    outlink = await startOutlink(options.dialect ?? 'sqlite', {
      fetch: as.fetch,
      env: { OUTLINK_LOG_LEVEL: 'warn' },
      mailTls: { ca: tls.caPem },
      mailTimeouts: options.mailTimeouts ?? {
        connectMs: 2_000,
        tlsMs: 2_000,
        greetingMs: 2_000,
        commandMs: 5_000,
      },
    });
    const linkId = options.scopes
      ? await createScopedLink(outlink, as, options.scopes)
      : await createTestLink(outlink, { as, tokenEndpoint: as.endpoints.token }, 'Test mail AS');
    const alice = await authorizeAccount(outlink, { as }, linkId, ALICE);
    const bob = await authorizeAccount(outlink, { as }, linkId, BOB);
    const o = outlink;
    const api: OutlinkMailWorld['api'] = async (method, url, payload) =>
      o.app.inject({
        method,
        url,
        headers: await o.adminHeaders(),
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
    const storedTokens: OutlinkMailWorld['storedTokens'] = async (connectionId) => {
      const row = await o.services.store.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', connectionId)
        .executeTakeFirstOrThrow();
      const { cipher } = o.services;
      assert.ok(row.access_token_enc);
      return {
        accessToken: cipher.decrypt(row.access_token_enc, `connections.access_token:${row.id}`),
        refreshToken: row.refresh_token_enc
          ? cipher.decrypt(row.refresh_token_enc, `connections.refresh_token:${row.id}`)
          : null,
        version: row.token_version,
      };
    };
    return {
      as,
      dovecot: peers[0]!,
      tls,
      outlink: o,
      linkId,
      alice,
      bob,
      introspection,
      async startDovecot(more = {}) {
        const peer = await startDovecot({
          ...more,
          introspection: { ...introspection, ...more.introspection },
        });
        peers.push(peer);
        return peer;
      },
      async createServer(body) {
        const res = await api('POST', '/api/v1/mail-servers', body);
        assert.equal(res.statusCode, 201, res.body);
        return res.json() as MailServerJson;
      },
      async test(id, body) {
        const res = await api('POST', `/api/v1/mail-servers/${id}/test`, body ?? {});
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as TestReport;
      },
      api,
      storedTokens,
      async revoke(connectionId, which) {
        const tokens = await storedTokens(connectionId);
        const token = which === 'access_token' ? tokens.accessToken : tokens.refreshToken;
        assert.ok(token, `no ${which} stored`);
        const res = await as.fetch(as.endpoints.revocation, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token,
            token_type_hint: which,
            client_id: TEST_CLIENT.clientId,
            client_secret: TEST_CLIENT.clientSecret,
          }).toString(),
        });
        assert.equal(res.status, 200, await res.text());
      },
      async invalidateAccessToken(connectionId) {
        const { accessToken } = await storedTokens(connectionId);
        const model = (as.provider as unknown as { AccessToken: AccessTokenModel }).AccessToken;
        const token = await model.find(accessToken);
        assert.ok(token, 'the provider does not know the stored access token');
        await token.destroy();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The part of oidc-provider's AccessToken model the world uses (the peer declares no more). */
interface AccessTokenModel {
  find(value: string): Promise<{ destroy(): Promise<void> } | undefined>;
}

/** A custom link to the test AS with the given scopes. */
async function createScopedLink(
  outlink: TestOutlink,
  as: AuthorizationServer,
  scopes: readonly string[],
): Promise<string> {
  const res = await outlink.app.inject({
    method: 'POST',
    url: '/api/v1/links',
    headers: await outlink.adminHeaders(),
    payload: {
      name: 'Test mail AS (scoped)',
      provider: 'custom',
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      scopes: [...scopes],
      issuer: as.issuer,
      authorizationEndpoint: as.endpoints.authorization,
      tokenEndpoint: as.endpoints.token,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: string }).id;
}
