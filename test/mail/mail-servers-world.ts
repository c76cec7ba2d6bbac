import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Clock } from '../../src/domain/clock.js';
import type { MailPollerHooks } from '../../src/jobs/mail-poller.js';
import type { MailTimeouts } from '../../src/mail/endpoint.js';
import type { TestReport } from '../../src/schemas/mail-servers.js';
import { type TestTls, testTls } from '../peers/ca.js';
import type { DovecotIntrospection, DovecotPeer } from '../peers/dovecot.js';
import type { FaultProxy } from '../peers/fault-proxy.js';
import type { AuthorizationServer } from '../peers/oidc-provider.js';
import type { TestDialect, TestOutlink } from '../support/harness.js';
import {
  dovecotIntrospection,
  startTestDovecot,
  type TestDovecotOptions,
} from '../support/mail-world.js';
import {
  CAROL,
  CAROL_PASSWORD,
  revokeToken,
  startAuthorizedWorld,
  storedTokens,
} from '../support/worlds.js';

/**
 * Outlink on a real database with a link to the test authorization server (oidc-provider) and
 * connections for ALICE and BOB authorized through the real code flow, and Dovecot validating
 * the tokens that server issued by introspection: the mail server routes end to end.
 */
export interface OutlinkMailWorld {
  readonly as: AuthorizationServer;
  /** The fault proxy in front of the provider (links made with `tokenEndpoint` use it). */
  readonly proxy: FaultProxy;
  /** The provider's token endpoint through the proxy. */
  readonly tokenEndpoint: string;
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
  startDovecot(options?: TestDovecotOptions): Promise<DovecotPeer>;
  /** Introspection settings for a Dovecot the test starts itself. */
  readonly introspection: DovecotIntrospection;
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
  handlerEnabled: boolean | null;
  issueKeyPrefix: string | null;
  defaultReporter: string | null;
  maxMessageBytes: number | null;
  acknowledgeWith: string | null;
  acknowledgeWithName: string | null;
  errorFolder: string | null;
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
    /** More configuration for Outlink (e.g. `OUTLINK_LOG_LEVEL: 'trace'`). */
    env?: Record<string, string>;
    /** Outlink's clock (a manual one moves token expiry and notice windows). */
    clock?: Clock;
    /** Told when an IDLE watcher idles and when its runs end. */
    mailPollerHooks?: MailPollerHooks;
  } = {},
): Promise<OutlinkMailWorld> {
  const tls = await testTls();
  const world = await startAuthorizedWorld(options.dialect ?? 'sqlite', {
    linkName: options.scopes ? 'Test mail AS (scoped)' : 'Test mail AS',
    ...(options.scopes ? { scopes: options.scopes } : {}),
    outlink: {
      env: { OUTLINK_LOG_LEVEL: 'warn', ...options.env },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.mailPollerHooks ? { mailPollerHooks: options.mailPollerHooks } : {}),
      mailTls: { ca: tls.caPem },
      mailTimeouts: options.mailTimeouts ?? {
        connectMs: 2_000,
        tlsMs: 2_000,
        greetingMs: 2_000,
        commandMs: 5_000,
      },
    },
  });
  const peers: DovecotPeer[] = [];
  const close = async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await world.close();
  };
  try {
    peers.push(
      await startTestDovecot(world, {
        tls,
        passwordUsers: [{ user: CAROL, password: CAROL_PASSWORD }],
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const { outlink } = world;
  const api: OutlinkMailWorld['api'] = async (method, url, payload) =>
    outlink.app.inject({
      method,
      url,
      headers: await outlink.adminHeaders(),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  const stored: OutlinkMailWorld['storedTokens'] = (connectionId) =>
    storedTokens(world, connectionId);
  return {
    as: world.as,
    proxy: world.proxy,
    tokenEndpoint: world.tokenEndpoint,
    dovecot: peers[0]!,
    tls,
    outlink,
    linkId: world.linkId,
    alice: world.alice,
    bob: world.bob,
    introspection: dovecotIntrospection(world),
    async startDovecot(more = {}) {
      const peer = await startTestDovecot(world, more);
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
    storedTokens: stored,
    async revoke(connectionId, which) {
      const tokens = await stored(connectionId);
      const token = which === 'access_token' ? tokens.accessToken : tokens.refreshToken;
      assert.ok(token, `no ${which} stored`);
      await revokeToken(world, token, which);
    },
    async invalidateAccessToken(connectionId) {
      const { accessToken } = await stored(connectionId);
      const model = (world.as.provider as unknown as { AccessToken: AccessTokenModel }).AccessToken;
      const token = await model.find(accessToken);
      assert.ok(token, 'the provider does not know the stored access token');
      await token.destroy();
    },
    close,
  };
}

/** The part of oidc-provider's AccessToken model the world uses (the peer declares no more). */
interface AccessTokenModel {
  find(value: string): Promise<{ destroy(): Promise<void> } | undefined>;
}
