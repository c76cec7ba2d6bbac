import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { redirectUrlFor } from '../src/domain/link.js';
import type { Fetch } from '../src/oauth/discovery.js';
import { type AuthorizationServer, startAuthorizationServer } from '../test/peers/oidc-provider.js';
import { startOutlink, type TestOutlink } from '../test/support/harness.js';
import { createTestLink, DEFAULT_BASE_URL, TEST_CLIENT } from '../test/support/worlds.js';

// The parts of oidc-provider's model API used to mint grants (see mintGrants).
declare module 'oidc-provider' {
  interface RefreshTokenInstance {
    save(): Promise<string>;
  }
  interface RefreshTokenModel {
    new (init: Readonly<Record<string, unknown>>): RefreshTokenInstance;
  }
  interface ClientModel {
    find(id: string): Promise<object | undefined>;
  }
  interface Provider {
    readonly RefreshToken: RefreshTokenModel;
    readonly Client: ClientModel;
  }
}

const SCOPE = 'openid email offline_access';
const ACCOUNT = 'bench@example.test';

/**
 * Real grants at the real authorization server, `n` of them, each with its own refresh
 * token: made through oidc-provider's own Grant and RefreshToken models, the records its
 * code flow stores. Driving the interactive flow (login and consent pages, code exchange)
 * manages about 90 grants a second here, too slow for 10,000; a refresh request cannot
 * tell the difference, since it is validated against the same stored grant either way.
 */
export async function mintGrants(as: AuthorizationServer, n: number): Promise<string[]> {
  const client = await as.provider.Client.find(TEST_CLIENT.clientId);
  if (!client) throw new Error('the bench client is not registered');
  const tokens: string[] = [];
  const authTime = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const grant = new as.provider.Grant({ accountId: ACCOUNT, clientId: TEST_CLIENT.clientId });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const token = new as.provider.RefreshToken({
      accountId: ACCOUNT,
      client,
      grantId,
      gty: 'authorization_code',
      scope: SCOPE,
      authTime,
      rotations: 0,
      expiresWithSession: false,
    });
    tokens.push(await token.save());
  }
  return tokens;
}

/** Stores `refreshTokens` as due connections of `linkId` (expired an hour ago). */
async function loadConnections(
  outlink: TestOutlink,
  linkId: string,
  issuer: string,
  refreshTokens: readonly string[],
  ids: string[],
): Promise<void> {
  const { db } = outlink.services.store;
  const { cipher } = outlink.services;
  const now = Date.now();
  const expired = new Date(now - 60_000).toISOString();
  const refreshed = new Date(now - 3_600_000).toISOString();
  if (ids.length === 0) ids.push(...refreshTokens.map(() => randomUUID()));
  await db.deleteFrom('connections').where('link_id', '=', linkId).execute();
  for (let start = 0; start < refreshTokens.length; start += 500) {
    const rows = refreshTokens.slice(start, start + 500).map((token, offset) => {
      const id = ids[start + offset]!;
      return {
        id,
        link_id: linkId,
        account: `bench-${start + offset}@example.test`,
        status: 'valid' as const,
        access_token_enc: cipher.encrypt('stale', `connections.access_token:${id}`),
        refresh_token_enc: cipher.encrypt(token, `connections.refresh_token:${id}`),
        token_type: 'bearer',
        expires_at: expired,
        scopes: JSON.stringify(SCOPE.split(' ')),
        last_refreshed_at: refreshed,
        last_error: null,
        created_at: refreshed,
        updated_at: refreshed,
        issuer,
        retry_at: null,
      };
    });
    await db.insertInto('connections').values(rows).execute();
  }
}

/** The refresh tokens Outlink holds now (rotated by its refreshes), in `ids` order. */
async function storedRefreshTokens(outlink: TestOutlink, ids: readonly string[]) {
  const rows = await outlink.services.store.db
    .selectFrom('connections')
    .select(['id', 'refresh_token_enc'])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r.refresh_token_enc]));
  return ids.map((id) =>
    outlink.services.cipher.decrypt(byId.get(id) ?? '', `connections.refresh_token:${id}`),
  );
}

/** The baseline: oauth4webapi's refresh grant in a loop, `concurrency` at a time. */
async function rawRefreshLoop(
  as: AuthorizationServer,
  refreshTokens: readonly string[],
  concurrency: number,
  fetch: Fetch,
): Promise<string[]> {
  const server: oauth.AuthorizationServer = {
    issuer: as.issuer,
    token_endpoint: as.endpoints.token,
  };
  const client: oauth.Client = { client_id: TEST_CLIENT.clientId };
  const auth = oauth.ClientSecretPost(TEST_CLIENT.clientSecret);
  const rotated: string[] = new Array(refreshTokens.length);
  let next = 0;
  const worker = async () => {
    while (next < refreshTokens.length) {
      const i = next++;
      const response = await oauth.refreshTokenGrantRequest(
        server,
        client,
        auth,
        refreshTokens[i]!,
        { [oauth.customFetch]: fetch, signal: AbortSignal.timeout(15_000) },
      );
      const result = await oauth.processRefreshTokenResponse(server, client, response);
      if (!result.refresh_token) throw new Error('no rotated refresh token');
      rotated[i] = result.refresh_token;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return rotated;
}

/**
 * Refreshing `n` due connections with the scheduler (back-to-back ticks until nothing is
 * due), against the same `n` grants refreshed by a bare oauth4webapi loop at the same
 * concurrency. Rotation consumes each refresh token, so the grants travel: raw → Outlink →
 * raw → … each pass starts from the tokens the previous one received; a round's baseline is
 * the mean of the raw passes just before and after its Outlink pass.
 */
export async function benchRefreshDue(options: {
  connections: number;
  concurrency: number;
  rounds: number;
}) {
  const redirect = { uri: '' };
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => {
      redirect.uri = redirectUrlFor(new URL(DEFAULT_BASE_URL), endpoints.authorization);
      return [{ ...TEST_CLIENT, redirectUris: [redirect.uri] }];
    },
    accounts: [{ email: ACCOUNT }],
  });
  const outlink = await startOutlink('sqlite', {
    fetch: as.fetch,
    env: { OUTLINK_LOG_LEVEL: 'warn' },
    schedulerOptions: { concurrency: options.concurrency },
  });
  try {
    const mintStart = performance.now();
    let tokens = await mintGrants(as, options.connections);
    const mintMs = performance.now() - mintStart;
    const linkId = await createTestLink(outlink, { as, tokenEndpoint: as.endpoints.token });
    const ids: string[] = [];
    const rawPass = async () => {
      const start = performance.now();
      tokens = await rawRefreshLoop(as, tokens, options.concurrency, as.fetch);
      return performance.now() - start;
    };
    const rounds: { outlinkMs: number; rawMs: number }[] = [];
    let rawBefore = await rawPass();
    for (let round = 0; round < options.rounds; round++) {
      await loadConnections(outlink, linkId, as.issuer, tokens, ids);
      const start = performance.now();
      let refreshed = 0;
      let failed = 0;
      for (;;) {
        const tick = await outlink.services.scheduler.tick();
        refreshed += tick.refreshed;
        failed += tick.failed;
        if (tick.due === 0) break;
      }
      const outlinkMs = performance.now() - start;
      if (refreshed !== options.connections || failed !== 0) {
        throw new Error(`scheduler refreshed ${refreshed}, failed ${failed}`);
      }
      tokens = await storedRefreshTokens(outlink, ids);
      // The baseline brackets each Outlink pass (before and after), so drift on a busy
      // machine weighs on both sides alike.
      const rawAfter = await rawPass();
      rounds.push({ outlinkMs, rawMs: (rawBefore + rawAfter) / 2 });
      rawBefore = rawAfter;
    }
    const outlinkMs = rounds.reduce((s, r) => s + r.outlinkMs, 0);
    const rawMs = rounds.reduce((s, r) => s + r.rawMs, 0);
    const n = options.connections * options.rounds;
    const outlinkRate = (n / outlinkMs) * 1000;
    const rawRate = (n / rawMs) * 1000;
    const ratio = outlinkRate / rawRate;
    return {
      name: 'scheduler refresh of due connections vs raw oauth4webapi loop',
      connections: options.connections,
      concurrency: options.concurrency,
      rounds: options.rounds,
      outlinkPerSecond: Math.round(outlinkRate),
      rawPerSecond: Math.round(rawRate),
      mintSeconds: Number((mintMs / 1000).toFixed(1)),
      ratio,
      summary: `refreshing ${options.connections} due connections: ${Math.round(outlinkRate)}/s = ${(ratio * 100).toFixed(1)}% of a raw oauth4webapi loop (${Math.round(rawRate)}/s) over the same grants at concurrency ${options.concurrency}, ${options.rounds} round(s)`,
    };
  } finally {
    await outlink.close();
    await as.close();
  }
}
