import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createManualClock } from '../../src/domain/clock.js';
import type { TokenServiceOptions } from '../../src/tokens/token-service.js';
import type { TestDialect } from '../support/harness.js';
import {
  type OAuthWorld,
  startOAuthWorld,
  TEST_CLIENT,
  type TestProviderOptions,
  testLinkBody,
} from '../support/worlds.js';

/** The shared test client's id and secret (worlds.ts), by the names the dance tests use. */
export const { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } = TEST_CLIENT;

/** The JSON shapes the tests read. */
export interface ConnectionJson {
  id: string;
  linkId: string;
  account: string;
  status: string;
  expiresAt: string | null;
  scopes: string[];
  lastRefreshedAt: string | null;
  lastError?: {
    code: string;
    scope: string;
    message: string;
    remedy: string;
    providerError?: string;
    providerDescription?: string;
  };
  createdAt: string;
}

export interface FlowJson {
  flowId: string;
  linkId: string;
  status: string;
  connectionId?: string;
  error?: {
    code: string;
    message: string;
    remedy: string;
    providerError?: string;
    providerDescription?: string;
  };
}

export interface TokenJson {
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
  scopes: string[];
  account: string;
}

export interface EventRow {
  type: string;
  connectionId: string | null;
  linkId: string | null;
  data: Record<string, unknown>;
}

/**
 * One world for the dance (layer 4 of test/support/worlds.ts): the real authorization server
 * (oidc-provider over HTTPS), a fault proxy in front of its token endpoint, and Outlink on
 * `dialect` with a manual clock and a `sleep` that records what it was asked to wait and
 * returns at once.
 */
export interface DanceWorld extends OAuthWorld {
  readonly clock: ReturnType<typeof createManualClock>;
  /** Every delay the token service asked `sleep` for, in ms. */
  readonly sleeps: number[];
}

export async function startDance(
  dialect: TestDialect,
  options: {
    accessTokenTtl?: number;
    tokenOptions?: Partial<TokenServiceOptions>;
    env?: Record<string, string>;
    accounts?: TestProviderOptions['accounts'];
  } = {},
): Promise<DanceWorld> {
  // Outlink's clock starts at the real time: the provider checks its own tokens against it.
  const clock = createManualClock(new Date());
  const sleeps: number[] = [];
  const world = await startOAuthWorld(dialect, {
    ...(options.accessTokenTtl ? { accessTokenTtl: options.accessTokenTtl } : {}),
    ...(options.accounts ? { accounts: options.accounts } : {}),
    outlink: {
      clock,
      ...(options.env ? { env: options.env } : {}),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      tokenOptions: { requestTimeoutMs: 2_000, ...options.tokenOptions },
    },
  });
  return { ...world, clock, sleeps };
}

/** A custom link at the test server, its token endpoint behind the fault proxy. */
export async function createLink(
  world: DanceWorld,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; redirectUrl: string }> {
  const res = await world.outlink.app.inject({
    method: 'POST',
    url: '/api/v1/links',
    headers: await world.outlink.adminHeaders(),
    payload: testLinkBody(world, overrides),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: string; redirectUrl: string };
}

/** `POST /api/v1/links/:id/authorizations`, by default as the signed-in admin (cookie). */
export async function startFlow(
  world: DanceWorld,
  linkId: string,
  body: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<{ flowId: string; authorizationUrl: string }> {
  const res = await world.outlink.app.inject({
    method: 'POST',
    url: `/api/v1/links/${linkId}/authorizations`,
    headers: headers ?? (await world.outlink.adminHeaders()),
    payload: body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { flowId: string; authorizationUrl: string };
}

/** The browser arriving back at Outlink: the callback URL, with the given cookie header. */
export async function callback(
  world: DanceWorld,
  url: URL,
  cookie?: string | null,
): Promise<LightMyRequestResponse> {
  const c = cookie === undefined ? (await world.outlink.adminHeaders()).cookie : cookie;
  return world.outlink.app.inject({
    method: 'GET',
    url: `${url.pathname}${url.search}`,
    headers: c ? { cookie: c } : {},
  });
}

export async function getFlow(world: DanceWorld, flowId: string): Promise<FlowJson> {
  const res = await world.outlink.app.inject({
    method: 'GET',
    url: `/api/v1/authorizations/${flowId}`,
    headers: await world.outlink.adminHeaders(),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as FlowJson;
}

/** The whole dance: start, sign in at the provider as `email`, come back. */
export async function authorize(
  world: DanceWorld,
  linkId: string,
  email: string,
  body: Record<string, unknown> = {},
): Promise<{ page: LightMyRequestResponse; flow: FlowJson; callbackUrl: URL }> {
  const started = await startFlow(world, linkId, body);
  const callbackUrl = await world.as.login(started.authorizationUrl, { email });
  const page = await callback(world, callbackUrl);
  return { page, flow: await getFlow(world, started.flowId), callbackUrl };
}

/** Authorizes and asserts success; returns the connection id. */
export async function connect(world: DanceWorld, linkId: string, email: string): Promise<string> {
  const { page, flow } = await authorize(world, linkId, email);
  assert.equal(page.statusCode, 200, page.body);
  assert.equal(flow.status, 'succeeded', JSON.stringify(flow));
  assert.ok(flow.connectionId);
  return flow.connectionId;
}

export async function getConnection(world: DanceWorld, id: string): Promise<ConnectionJson> {
  const res = await world.outlink.app.inject({
    method: 'GET',
    url: `/api/v1/connections/${id}`,
    headers: await world.outlink.adminHeaders(),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as ConnectionJson;
}

/** `GET /api/v1/connections/:id/token` as admin. */
export async function tokenOf(world: DanceWorld, connectionId: string) {
  return world.outlink.app.inject({
    method: 'GET',
    url: `/api/v1/connections/${connectionId}/token`,
    headers: await world.outlink.adminHeaders(),
  });
}

/** Every connection row, ordered: compared before and after a failure ("nothing stored"). */
export async function connectionRows(world: DanceWorld) {
  return world.outlink.services.store.db
    .selectFrom('connections')
    .selectAll()
    .orderBy('id')
    .execute();
}

/** Events of a type (all when omitted), oldest first. */
export async function eventsOf(world: DanceWorld, type?: string): Promise<EventRow[]> {
  let q = world.outlink.services.store.db.selectFrom('events').selectAll().orderBy('seq');
  if (type) q = q.where('type', '=', type);
  const rows = await q.execute();
  return rows.map((r) => ({
    type: r.type,
    connectionId: r.connection_id,
    linkId: r.link_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
}

/**
 * Moves Outlink's clock to just inside the connection's refresh margin, so the next
 * `getAccessToken` must refresh while the token has not yet expired.
 */
export async function moveIntoMargin(world: DanceWorld, connectionId: string): Promise<void> {
  const c = await getConnection(world, connectionId);
  assert.ok(c.expiresAt);
  const target = Date.parse(c.expiresAt) - 1_000;
  const now = world.clock.now().getTime();
  if (target > now) world.clock.advance(target - now);
}

/** Moves Outlink's clock past the connection's expiry. */
export async function movePastExpiry(world: DanceWorld, connectionId: string): Promise<void> {
  const c = await getConnection(world, connectionId);
  assert.ok(c.expiresAt);
  world.clock.set(new Date(Date.parse(c.expiresAt) + 1_000));
}
