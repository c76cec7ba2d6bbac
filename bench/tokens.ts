import Fastify from 'fastify';
import { systemClock } from '../src/domain/clock.js';
import { redirectUrlFor } from '../src/domain/link.js';
import { type AuthorizationServer, startAuthorizationServer } from '../test/peers/oidc-provider.js';
import { startOutlink, type TestOutlink } from '../test/support/harness.js';
import {
  authorizeAccount,
  createTestLink,
  DEFAULT_BASE_URL,
  expireToken,
  TEST_CLIENT,
} from '../test/support/worlds.js';
import { compareWithBareRoute, listenLoopback } from './support.js';
import { benchRefreshDue } from './tokens-refresh.js';

export { benchRefreshDue, mintGrants } from './tokens-refresh.js';

const ACCOUNT = 'alice@example.test';

/** The local provider and one Outlink connection to it, authorized through the real flow. */
async function startAuthorized(): Promise<{
  as: AuthorizationServer;
  outlink: TestOutlink;
  connectionId: string;
  close(): Promise<void>;
}> {
  const as = await startAuthorizationServer({
    clients: ({ endpoints }) => [
      {
        ...TEST_CLIENT,
        redirectUris: [redirectUrlFor(new URL(DEFAULT_BASE_URL), endpoints.authorization)],
      },
    ],
    accounts: [{ email: ACCOUNT }],
  });
  const outlink = await startOutlink('sqlite', {
    fetch: as.fetch,
    env: { OUTLINK_LOG_LEVEL: 'warn' },
  });
  const linkId = await createTestLink(outlink, { as, tokenEndpoint: as.endpoints.token });
  const connectionId = await authorizeAccount(outlink, { as }, linkId, ACCOUNT);
  return {
    as,
    outlink,
    connectionId,
    async close() {
      await outlink.close();
      await as.close();
    },
  };
}

/**
 * `GET /api/v1/connections/:id/token` (a `token:read` API token for that connection, fresh
 * token, SQLite) over loopback HTTP, against a bare Fastify route answering the same JSON
 * from memory, in the same process and run. Rounds alternate.
 */
export async function benchTokenApi(options: {
  seconds: number;
  rounds: number;
  connections: number;
}) {
  const peer = await startAuthorized();
  const bare = Fastify({ logger: false });
  try {
    const { outlink, connectionId } = peer;
    const created = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/api-tokens',
      headers: await outlink.adminHeaders(),
      payload: { name: 'bench reader', scopes: ['token:read'], connectionIds: [connectionId] },
    });
    if (created.statusCode !== 201) throw new Error(`api token: ${created.body}`);
    const headers = { authorization: `Bearer ${(created.json() as { token: string }).token}` };
    const path = `/api/v1/connections/${connectionId}/token`;
    const sample = await outlink.app.inject({ method: 'GET', url: path, headers });
    if (sample.statusCode !== 200) throw new Error(`token route: ${sample.body}`);
    const body = sample.json() as unknown;
    bare.get('/api/v1/connections/:id/token', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return body;
    });
    const outlinkUrl = `${await listenLoopback(outlink.app)}${path}`;
    const bareUrl = `${await listenLoopback(bare)}${path}`;

    return await compareWithBareRoute(
      'GET /api/v1/connections/:id/token',
      { outlink: outlinkUrl, bare: bareUrl },
      { ...options, headers },
    );
  } finally {
    await bare.close();
    await peer.close();
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Fan-in: the time until all of `callers` simultaneous `getAccessToken` calls on an expired
 * token have their answer, against one caller's plain refresh, both against the local
 * provider (real HTTPS, rotation on). Medians of alternating rounds.
 */
export async function benchFanIn(options: { callers: number; rounds: number }) {
  const peer = await startAuthorized();
  try {
    const { outlink, connectionId } = peer;
    const { tokens } = outlink.services;
    const { db } = outlink.services.store;
    const timed = async (callers: number) => {
      await expireToken(db, connectionId, systemClock);
      const start = performance.now();
      const views = await Promise.all(
        Array.from({ length: callers }, () => tokens.getAccessToken(connectionId)),
      );
      const ms = performance.now() - start;
      if (new Set(views.map((v) => v.accessToken)).size !== 1)
        throw new Error('callers got different tokens');
      return ms;
    };
    // Warm-up: connection pool to the provider, JIT.
    await timed(1);
    await timed(options.callers);
    const single: number[] = [];
    const fanIn: number[] = [];
    for (let i = 0; i < options.rounds; i++) {
      single.push(await timed(1));
      fanIn.push(await timed(options.callers));
    }
    const singleMs = median(single);
    const fanInMs = median(fanIn);
    const ratio = fanInMs / singleMs;
    return {
      name: `fan-in: ${options.callers} callers on an expired token vs one refresh`,
      singleMs: Number(singleMs.toFixed(2)),
      fanInMs: Number(fanInMs.toFixed(2)),
      ratio,
      summary: `fan-in: ${options.callers} simultaneous callers on an expired token all answered in ${fanInMs.toFixed(1)} ms = ${ratio.toFixed(2)}× one plain refresh (${singleMs.toFixed(1)} ms), median of ${options.rounds} rounds`,
    };
  } finally {
    await peer.close();
  }
}

/**
 * The issue-3 token benchmarks with sizes for a full run (about 2 minutes on 2 cores) or,
 * with `quick`, a smoke run of a few seconds.
 */
export async function benchTokens(options: { quick: boolean; seconds?: number }) {
  const seconds = options.seconds ?? (options.quick ? 1 : 5);
  return [
    await benchTokenApi({ seconds, rounds: options.quick ? 1 : 3, connections: 10 }),
    await benchFanIn({ callers: 1_000, rounds: options.quick ? 3 : 15 }),
    await benchRefreshDue({
      connections: options.quick ? 500 : 10_000,
      concurrency: 8,
      rounds: 1,
    }),
  ];
}
