import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fetch } from '../../src/oauth/discovery.js';
import { type PrivatePostgres, startPrivatePostgres } from '../peers/private-postgres.js';
import {
  type ClusterNode,
  type ClusterWorld,
  clusterFetch,
  startCluster,
} from './cluster-world.js';

/**
 * Issue 14: PostgreSQL restarted under load. Two node processes on a PostgreSQL server of
 * the test's own (the machine's is shared, so never stopped), 12 connections with
 * 10-second tokens, and clients asking the nodes for tokens all along. While the server is
 * down every request is answered quickly — 200 from a node's memory or 503
 * `database_unavailable`, never a 500 and never a hang — and background work pauses;
 * once it is back the nodes serve again without a restart, and no token is lost: refreshes
 * the provider answered while the database was down (their rotated refresh tokens exist
 * nowhere else) are stored afterwards, every stored token version matches the provider's
 * count, and every connection's stored refresh token still works.
 */
const CONNECTIONS = 12;
const TTL_SECONDS = 10;
/** How long the provider's answers are held, so that refreshes are in flight at the stop. */
const HELD_MS = 3_000;
const OUTAGE_MS = 6_000;
/** The longest a request may take while the database is down. */
const FAST_MS = 2_500;
const CLIENTS = 4;

let pg: PrivatePostgres | undefined;
let world: ClusterWorld | undefined;
after(async () => {
  try {
    await world?.close();
  } finally {
    await pg?.close();
  }
});

interface Sample {
  readonly at: number;
  readonly ms: number;
  /** 0: no answer within 10 s (or the connection failed). */
  readonly status: number;
  readonly code?: string;
  /** The node asked (its pid) and the seeded connection's index, to tell a failure apart. */
  readonly node?: number;
  readonly connection?: number;
}

test('PostgreSQL restarted under load: fast 503s, then recovery with no token lost', async (t) => {
  pg = await startPrivatePostgres();
  world = await startCluster({
    pgAdminUrl: pg.adminUrl,
    accessTokenTtl: TTL_SECONDS,
    viaProxy: true,
    jobs: { scheduler: { intervalMs: 500 } },
    env: { OUTLINK_DATABASE_CONNECT_TIMEOUT_SECONDS: '2' },
  });
  const w = world;
  const { proxy, tokenPath } = w.provider;
  const seeded = await w.seedConnections(CONNECTIONS);
  const bearer = await w.inspector.tokenHeaders();
  const nodes = await Promise.all([1, 2].map(() => w.startNode()));
  const fetch: Fetch = clusterFetch(w);
  const { db } = w.inspector.services.store;

  // Every connection refreshed once by the nodes' schedulers (the seeded tokens are expired).
  const least = () => Math.min(...seeded.map((s) => w.refreshes.of(s.grantId).length));
  for (let i = 0; i < 600 && least() < 1; i++) await sleep(100);
  assert.ok(least() >= 1, 'the nodes refreshed every seeded connection');

  const samples: Sample[] = [];
  let loading = true;
  const get = async (node: ClusterNode, connectionId: string): Promise<Sample> => {
    const at = Date.now();
    try {
      const res = await fetch(`${node.origin}/api/v1/connections/${connectionId}/token`, {
        headers: bearer,
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { error?: { code: string } };
      return { at, ms: Date.now() - at, status: res.status, code: body.error?.code };
    } catch {
      return { at, ms: Date.now() - at, status: 0 };
    }
  };
  const client = async (k: number) => {
    for (let i = k; loading; i++) {
      const node = nodes[i % nodes.length]!;
      const sample = await get(node, seeded[i % CONNECTIONS]!.connectionId);
      samples.push({ ...sample, node: node.pid, connection: i % CONNECTIONS });
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, k) => client(k));
  // However the test ends, the load ends with it (a failed assertion must not leave the
  // clients asking stopped nodes until the file's timeout).
  t.after(() => {
    loading = false;
  });
  await sleep(2_000);

  // Refreshes in flight at the stop: three asked for on node 1, the provider's answers held.
  let stoppedAt = 0;
  let restartedAt = 0;
  let recoveredAt = 0;
  let refreshAnswers: { status: number; code?: string }[] = [];
  try {
    proxy.always({ kind: 'delay', ms: HELD_MS });
    const seen = proxy.count(tokenPath);
    const asked = seeded.slice(0, 3).map(async ({ connectionId }) => {
      const res = await fetch(`${nodes[0]!.origin}/api/v1/connections/${connectionId}/refresh`, {
        method: 'POST',
        headers: bearer,
      });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code };
    });
    for (let i = 0; i < 40 && proxy.count(tokenPath) < seen + 3; i++) await sleep(50);
    assert.ok(proxy.count(tokenPath) >= seen + 3, 'the three token requests reached the proxy');

    stoppedAt = Date.now();
    await pg.stop('fast');
    await sleep(HELD_MS + 500);
    proxy.always({ kind: 'pass' });
    refreshAnswers = await Promise.all(asked);
    await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
  } finally {
    proxy.always({ kind: 'pass' });
    restartedAt = Date.now();
    await pg.start();
    t.diagnostic(`PostgreSQL accepted connections ${Date.now() - restartedAt} ms after its start`);
  }

  // Recovery without restarting a node: each serves every connection's token again within
  // 15 s (a connection whose rotated tokens are still being written answers 503 meanwhile).
  const recoverBy = restartedAt + 15_000;
  const unrecovered: string[] = [];
  for (const node of nodes) {
    for (const { connectionId } of seeded) {
      let last = await get(node, connectionId);
      while (last.status !== 200 && Date.now() < recoverBy) {
        await sleep(100);
        last = await get(node, connectionId);
      }
      if (last.status !== 200)
        unrecovered.push(`${node.pid} ${connectionId}: ${last.status} ${last.code}`);
    }
  }
  recoveredAt = Date.now();
  assert.ok(
    recoveredAt - restartedAt < 15_000,
    `recovered ${recoveredAt - restartedAt} ms after; still failing: ${unrecovered.join(', ')}\n` +
      nodes.map((n) => n.stderr().slice(-3_000)).join('\n'),
  );
  await sleep(2_000);
  loading = false;
  await Promise.all(clients);

  const before = samples.filter((s) => s.at + s.ms < stoppedAt);
  const down = samples.filter((s) => s.at > stoppedAt + 1_000 && s.at + s.ms < restartedAt);
  const later = samples.filter((s) => s.at > recoveredAt);
  assert.ok(before.length > 0 && down.length > 0 && later.length > 0, 'load in every phase');
  assert.deepEqual(
    before.filter((s) => s.status !== 200),
    [],
  );
  // Down: quick answers, 200 (a token the node still holds) or 503 database_unavailable.
  const slow = samples.filter((s) => s.at >= stoppedAt && s.at < restartedAt && s.ms > FAST_MS);
  assert.deepEqual(slow, [], `no request took over ${FAST_MS} ms while the database was down`);
  const wrong = down.filter(
    (s) => s.status !== 200 && !(s.status === 503 && s.code === 'database_unavailable'),
  );
  assert.deepEqual(wrong, [], 'only 200 or 503 database_unavailable while it was down');
  assert.ok(
    down.some((s) => s.status === 503),
    'requests that needed the database were refused',
  );
  assert.deepEqual(
    later.filter((s) => s.status !== 200),
    [],
    `every request after the recovery answered 200 (recovered at ${recoveredAt}, restarted at ${restartedAt})\n` +
      nodes.map((n) => n.stderr().slice(-4_000)).join('\n'),
  );
  // The refreshes whose answers came back while it was down could not be stored.
  assert.deepEqual(
    refreshAnswers,
    Array.from({ length: 3 }, () => ({ status: 503, code: 'database_unavailable' })),
  );
  const answeredWhileDown = seeded.filter((s) =>
    w.refreshes.of(s.grantId).some((t) => t > stoppedAt && t < restartedAt),
  );
  assert.ok(answeredWhileDown.length >= 3, 'the provider rotated refresh tokens during the outage');

  // Background work paused, then resumed: each node said so once, and beats again.
  for (const node of nodes) {
    assert.equal(node.logged('background work paused'), 1, node.stderr().slice(-2_000));
  }
  for (let i = 0; i < 100; i++) {
    const beats = await db.selectFrom('cluster_nodes').select('last_heartbeat_at').execute();
    if (beats.filter((b) => Date.parse(b.last_heartbeat_at) > restartedAt).length >= 2) break;
    await sleep(100);
  }
  const beats = await db
    .selectFrom('cluster_nodes')
    .select(['pid', 'last_heartbeat_at'])
    .where('stopped_at', 'is', null)
    .execute();
  for (const node of nodes) {
    const beat = beats.find((b) => b.pid === node.pid);
    assert.ok(beat && Date.parse(beat.last_heartbeat_at) > restartedAt, `node ${node.pid} beats`);
  }

  // No token lost: what the provider answered is what is stored, for every connection (the
  // schedulers keep refreshing, so the two are compared once they agree, then frozen).
  const mismatches = async () => {
    const rows = await db
      .selectFrom('connections')
      .select(['id', 'status', 'token_version'])
      .where('link_id', '=', w.linkId)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return seeded
      .map((s) => ({
        connectionId: s.connectionId,
        stored: byId.get(s.connectionId)?.token_version,
        status: byId.get(s.connectionId)?.status,
        answered: w.refreshes.of(s.grantId).length,
      }))
      .filter((m) => m.stored !== m.answered || m.status !== 'valid');
  };
  for (let i = 0; i < 100 && (await mismatches()).length > 0; i++) await sleep(100);
  await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
  assert.deepEqual(await mismatches(), [], 'stored token versions equal the provider’s count');

  // And every stored refresh token is the live one: one more refresh each, accepted.
  const inspector = await w.inspector.tokenHeaders();
  for (const { connectionId, grantId } of seeded) {
    const count = w.refreshes.of(grantId).length;
    const res = await w.inspector.app.inject({
      method: 'POST',
      url: `/api/v1/connections/${connectionId}/refresh`,
      headers: inspector,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(w.refreshes.of(grantId).length, count + 1);
  }
  assert.deepEqual(w.refreshes.errors(), [], 'the provider refused no token request');
  const worst = Math.max(...samples.filter((s) => s.at >= stoppedAt).map((s) => s.ms));
  t.diagnostic(
    `${samples.length} requests; down ${restartedAt - stoppedAt} ms, ${down.length} requests ` +
      `(${down.filter((s) => s.status === 503).length} × 503), slowest from the stop on ` +
      `${worst} ms; recovered ${recoveredAt - restartedAt} ms after the restart`,
  );
});
