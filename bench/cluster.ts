/**
 * Cluster mode (issue 14), measured from outside: three node processes (test/cluster/node.ts,
 * what `outlink serve` runs) on one PostgreSQL database, the test oidc-provider in this
 * process counting the refresh grants it answers. All of them share one small machine, so
 * this measures the cost of coordination (leases, the shared rows), not scale-out.
 *
 * - Refresh throughput with 1, 2 and 3 nodes on the same `connections` due connections
 *   (fresh grants minted and stored before each pass with every node paused by SIGSTOP, not
 *   timed): each pass resumes (SIGCONT) 1, 2 or 3 of the same started processes and is
 *   timed from there to the provider's last refresh grant; passes alternate their order
 *   round by round. Reported as ratios to one node (goal: 3 nodes ≥ 0.9×).
 * - Takeover: a node SIGKILLed while its token request hangs (the fault proxy holds it);
 *   the time until another node's refresh reaches the provider (goal: ≤ the lease + 1 s).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ClusterNode,
  type ClusterWorld,
  leaseHolder,
  startCluster,
} from '../test/cluster/cluster-world.js';
import { createTestLink } from '../test/support/worlds.js';
import { loadAverage, range, roundedSpread, spreadOf } from './stats.js';

const LEASE_SECONDS = 5;

export async function benchCluster(options: {
  connections: number;
  rounds: number;
  takeovers: number;
  log: (line: string) => void;
}) {
  const world = await startCluster({
    viaProxy: false,
    jobs: { scheduler: { intervalMs: 200 } },
    env: { OUTLINK_LEASE_SECONDS: String(LEASE_SECONDS), OUTLINK_LOG_LEVEL: 'error' },
  });
  try {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await world.startNode());
    const proxied = await createTestLink(world.inspector, {
      as: world.provider.as,
      tokenEndpoint: world.provider.tokenEndpoint,
    });

    /** One pass: `count` nodes running, the others paused; refreshes a second. */
    const pass = async (count: number): Promise<number> => {
      // Every node paused while the due rows are written, so the pass starts on a signal.
      for (const node of nodes) node.signal('SIGSTOP');
      const { db } = world.inspector.services.store;
      await db.deleteFrom('connections').where('link_id', '=', world.linkId).execute();
      await world.seedConnections(options.connections);
      const before = world.refreshes.total();
      const start = performance.now();
      nodes.slice(0, count).forEach((node) => {
        node.signal('SIGCONT');
      });
      const deadline = start + 30 * 60_000;
      while (world.refreshes.total() - before < options.connections) {
        if (performance.now() > deadline) throw new Error(`a ${count}-node pass did not finish`);
        await sleep(20);
      }
      const ms = performance.now() - start;
      // The provider has answered every refresh; the nodes may still be storing the last
      // ones. Pausing a node inside its transaction would hold the rows the next pass needs.
      await quiet(world);
      if (world.refreshes.errors().length) {
        throw new Error(`the provider refused requests: ${world.refreshes.errors()[0]}`);
      }
      return (options.connections / ms) * 1000;
    };

    options.log(`cluster: warming up (load ${loadAverage()})`);
    await pass(3);
    const rounds: Record<1 | 2 | 3, number>[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const order = (r % 2 === 0 ? [1, 2, 3] : [3, 2, 1]) as (1 | 2 | 3)[];
      const round: Partial<Record<1 | 2 | 3, number>> = {};
      for (const count of order) round[count] = await pass(count);
      rounds.push(round as Record<1 | 2 | 3, number>);
      options.log(
        `cluster round ${r + 1}/${options.rounds}: 1 node ${Math.round(round[1]!)}/s, ` +
          `2 nodes ${Math.round(round[2]!)}/s, 3 nodes ${Math.round(round[3]!)}/s (load ${loadAverage()})`,
      );
    }
    for (const node of nodes) node.signal('SIGCONT');
    const perSecond = (n: 1 | 2 | 3) => Math.round(spreadOf(rounds.map((r) => r[n])).median);
    const ratio2 = roundedSpread(spreadOf(rounds.map((r) => r[2] / r[1])), 3);
    const ratio3 = roundedSpread(spreadOf(rounds.map((r) => r[3] / r[1])), 3);

    const takeovers: number[] = [];
    for (let t = 0; t < options.takeovers; t++) {
      takeovers.push(await takeover(world, nodes, proxied));
      // The killed node's place is taken by a new one, so each takeover has three nodes.
      nodes.push(await world.startNode());
      options.log(`cluster takeover ${t + 1}/${options.takeovers}: ${takeovers.at(-1)} ms`);
    }
    const takeoverMs = roundedSpread(spreadOf(takeovers), 0);
    return [
      {
        name: 'cluster: refresh throughput with 1, 2 and 3 nodes on one PostgreSQL database',
        connections: options.connections,
        perSecond: { 1: perSecond(1), 2: perSecond(2), 3: perSecond(3) },
        ratioTwoNodes: ratio2,
        ratioThreeNodes: ratio3,
        loadAverage: loadAverage(),
        summary:
          `cluster refresh of ${options.connections} due connections on PostgreSQL: 1 node ` +
          `${perSecond(1)}/s, 2 nodes ${perSecond(2)}/s = ${range(ratio2)}×, 3 nodes ` +
          `${perSecond(3)}/s = ${range(ratio3)}× of one, ${options.rounds} alternating rounds, ` +
          `load ${loadAverage()}`,
      },
      {
        name: 'cluster: takeover after a node is killed mid-refresh',
        leaseSeconds: LEASE_SECONDS,
        takeoverMs,
        loadAverage: loadAverage(),
        summary:
          `cluster takeover after SIGKILL mid-refresh: ${range(takeoverMs, 0)} ms with ` +
          `OUTLINK_LEASE_SECONDS=${LEASE_SECONDS} (goal ≤ ${LEASE_SECONDS * 1000 + 1000} ms), ` +
          `${takeovers.length} kill(s), load ${loadAverage()}`,
      },
    ];
  } finally {
    await world.close();
  }
}

/** Kills the node whose token request hangs; ms until another's refresh reaches the provider. */
async function takeover(world: ClusterWorld, nodes: ClusterNode[], linkId: string) {
  const sent = world.provider.proxy.count(world.provider.tokenPath);
  world.provider.proxy.queue({ kind: 'hang' });
  const [seeded] = await world.seedConnections(1, linkId);
  if (!seeded) throw new Error('nothing seeded');
  let holder: ClusterNode | undefined;
  for (let i = 0; i < 1200 && !holder; i++) {
    const held = await leaseHolder(
      world.inspector.services.store.db,
      `refresh:${seeded.connectionId}`,
    );
    if (world.provider.proxy.count(world.provider.tokenPath) > sent)
      holder = nodes.find((n) => n.pid === held?.pid);
    if (!holder) await sleep(50);
  }
  if (!holder) throw new Error('no node sent the token request');
  await holder.stop('SIGKILL');
  nodes.splice(nodes.indexOf(holder), 1);
  const killedAt = performance.now();
  while (world.refreshes.of(seeded.grantId).length === 0) {
    if (performance.now() - killedAt > 120_000) throw new Error('no node took over');
    await sleep(10);
  }
  return Math.round(performance.now() - killedAt);
}

/** Waits until every due row of the pass is stored and no refresh lease is held. */
async function quiet(world: ClusterWorld): Promise<void> {
  const { db } = world.inspector.services.store;
  for (let i = 0; i < 6000; i++) {
    const pending = await db
      .selectFrom('connections')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('link_id', '=', world.linkId)
      .where('token_version', '=', 0)
      .executeTakeFirstOrThrow();
    const held = await db
      .selectFrom('leases')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('name', 'like', 'refresh:%')
      .executeTakeFirstOrThrow();
    if (Number(pending.n) === 0 && Number(held.n) === 0) return;
    await sleep(20);
  }
  throw new Error('the nodes did not finish storing their refreshes');
}
