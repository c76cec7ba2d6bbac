import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterWorld, startCluster } from './cluster-world.js';

/**
 * Issue 14: three node processes on one PostgreSQL database keep 1,000 connections with
 * 20-second tokens fresh over several token lifetimes, and the provider sees each connection
 * refreshed exactly once per lifetime — never twice (its refresh tokens rotate, so a second
 * refresh of one token would also revoke the grant), never skipped.
 */
const CONNECTIONS = 1_000;
const TTL_SECONDS = 20;
/** The first refresh (the tokens are seeded expired), then this many token lifetimes. */
const CYCLES = 3;

let world: ClusterWorld | undefined;
after(() => world?.close());

test('three nodes refresh each of 1,000 connections exactly once per token lifetime', async () => {
  world = await startCluster({
    accessTokenTtl: TTL_SECONDS,
    // The default 30-second tick is longer than the tokens live.
    jobs: { scheduler: { intervalMs: 1_000 } },
  });
  const seeded = await world.seedConnections(CONNECTIONS);
  const startedAt = Date.now();
  const nodes = await Promise.all([1, 2, 3].map(() => world!.startNode()));

  const wanted = 1 + CYCLES;
  const deadline = Date.now() + 150_000;
  const least = () => Math.min(...seeded.map((s) => world!.refreshes.of(s.grantId).length));
  const { db } = world.inspector.services.store;
  const failing = async () =>
    db
      .selectFrom('connections')
      .select(['account', 'last_error'])
      .where('status', '!=', 'valid')
      .limit(3)
      .execute();
  while (least() < wanted && Date.now() < deadline) {
    await sleep(1_000);
    const bad = await failing();
    assert.deepEqual(bad, [], 'connections left valid');
  }
  // Stop before the next lifetime ends, so each count below is final.
  await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
  assert.ok(
    least() >= wanted,
    `after 150 s some connection was refreshed only ${least()} times; total ${world.refreshes.total()}\n` +
      nodes.map((n) => n.stderr().slice(-2000)).join('\n'),
  );
  assert.deepEqual(world.refreshes.errors(), [], 'the provider refused token requests');

  const rows = await db
    .selectFrom('connections')
    .select(['id', 'status', 'token_version'])
    .where('link_id', '=', world.linkId)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const eventRows = await db
    .selectFrom('events')
    .select(['connection_id'])
    .where('type', '=', 'connection.refreshed')
    .execute();
  const events = new Map<string, number>();
  for (const e of eventRows)
    events.set(e.connection_id ?? '', (events.get(e.connection_id ?? '') ?? 0) + 1);

  const minGapMs = TTL_SECONDS * 1000 * 0.8;
  const maxGapMs = TTL_SECONDS * 1000 * 2;
  let short = 0;
  let long = 0;
  for (const { connectionId, grantId } of seeded) {
    const times = world.refreshes.of(grantId);
    const row = byId.get(connectionId);
    assert.equal(row?.status, 'valid', `connection ${connectionId}`);
    // What the provider answered is exactly what was stored, and recorded once each.
    assert.equal(row.token_version, times.length, `connection ${connectionId}: stored versions`);
    assert.equal(events.get(connectionId), times.length, `connection ${connectionId}: events`);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      if (gap < minGapMs) short++;
      if (gap > maxGapMs) long++;
    }
  }
  // Two refreshes within one lifetime would be a double refresh; a gap of two lifetimes a
  // cycle skipped.
  assert.equal(short, 0, 'refreshes closer together than 80% of a token lifetime');
  assert.equal(long, 0, 'refreshes further apart than two token lifetimes');
  // No connection ran ahead of the clock: the first refreshes of 1,000 seeded-expired
  // tokens take a while on a loaded machine, so the early ones may be a lifetime ahead of the
  // last, but never more often than one refresh per 80% of a lifetime since the first.
  const counts = seeded.map((s) => world!.refreshes.of(s.grantId).length);
  const span = Date.now() - startedAt;
  const most = 1 + Math.floor(span / minGapMs);
  assert.ok(Math.max(...counts) <= most, `at most ${most} refreshes per connection in ${span} ms`);
});
