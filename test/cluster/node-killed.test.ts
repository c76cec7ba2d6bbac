import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterNode, type ClusterWorld, leaseHolder, startCluster } from './cluster-world.js';

/**
 * Issue 14: a node SIGKILLed in the middle of a refresh — its token request sent, no answer
 * yet — holds the connection's lease no longer than `OUTLINK_LEASE_SECONDS`; another node
 * then refreshes it, once: the provider never saw the dead node's request (the fault proxy
 * held it), so nothing is lost (the stored refresh token is still the live one) and nothing
 * is done twice.
 */
const LEASE_SECONDS = 4;

let world: ClusterWorld | undefined;
after(() => world?.close());

test('a node killed mid-refresh: another takes the connection over within the lease time', async () => {
  world = await startCluster({
    viaProxy: true,
    jobs: { scheduler: { intervalMs: 500 } },
    env: { OUTLINK_LEASE_SECONDS: String(LEASE_SECONDS) },
  });
  const [seeded] = await world.seedConnections(1);
  assert.ok(seeded);
  // The first token request is held by the proxy and never reaches the provider.
  world.provider.proxy.queue({ kind: 'hang' });
  const nodes = await Promise.all([1, 2, 3].map(() => world!.startNode()));

  const { db } = world.inspector.services.store;
  const lease = `refresh:${seeded.connectionId}`;
  let holder: ClusterNode | undefined;
  for (let i = 0; i < 600 && !holder; i++) {
    const held = await leaseHolder(db, lease);
    if (world.provider.proxy.count(world.provider.tokenPath) >= 1)
      holder = nodes.find((n) => n.pid === held?.pid);
    if (!holder) await sleep(100);
  }
  assert.ok(holder, 'a node took the refresh lease and sent its token request');
  assert.equal(world.refreshes.total(), 0);

  await holder.stop('SIGKILL');
  const killedAt = Date.now();
  while (world.refreshes.of(seeded.grantId).length === 0 && Date.now() - killedAt < 60_000)
    await sleep(50);
  const takeoverMs = Date.now() - killedAt;
  assert.equal(world.refreshes.of(seeded.grantId).length, 1, 'another node refreshed it');
  // The lease time, plus a scheduler tick and the request on a loaded machine.
  assert.ok(
    takeoverMs <= (LEASE_SECONDS + 3) * 1000,
    `taken over after ${takeoverMs} ms (lease ${LEASE_SECONDS} s)`,
  );

  // Nothing done twice: one refresh stored, one event, and the connection stays valid
  // through the next look of every node.
  await sleep(2_000);
  const row = await db
    .selectFrom('connections')
    .select(['status', 'token_version'])
    .where('id', '=', seeded.connectionId)
    .executeTakeFirstOrThrow();
  assert.deepEqual(row, { status: 'valid', token_version: 1 });
  assert.equal(world.refreshes.of(seeded.grantId).length, 1);
  assert.deepEqual(world.refreshes.errors(), []);
  const events = await db
    .selectFrom('events')
    .select('type')
    .where('connection_id', '=', seeded.connectionId)
    .execute();
  assert.deepEqual(
    events.map((e) => e.type),
    ['connection.refreshed'],
  );
  // The survivors still serve it.
  for (const node of nodes.filter((n) => n !== holder)) await node.stop('SIGTERM');
});
