import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Fetch } from '../../src/oauth/discovery.js';
import { ADMIN_PASSWORD } from '../support/harness.js';
import { ALICE, DEFAULT_BASE_URL } from '../support/worlds.js';
import { type ClusterWorld, clusterFetch, startCluster } from './cluster-world.js';

/**
 * Issue 14: behind a load balancer, each request of one authorization may reach another
 * node. The flow is started on node 1 (API token), its one-time start URL opened on node 2
 * (which sets the flow-binding cookie), and the provider's redirect delivered to node 3:
 * the flow succeeds, since every node shares the database, the master key and the base URL.
 */
let world: ClusterWorld | undefined;
after(() => world?.close());

test('a flow started on one node completes through the callback on another', async () => {
  world = await startCluster();
  const nodes = await Promise.all([1, 2, 3].map(() => world!.startNode()));
  const [one, two, three] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
  const fetch: Fetch = clusterFetch(world);

  // An admin API token made on node 3 works on node 1.
  const login = await fetch(`${three.origin}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const made = await fetch(`${three.origin}/api/v1/api-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'cluster' }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  const bearer = { authorization: `Bearer ${((await made.json()) as { token: string }).token}` };

  const started = await fetch(`${one.origin}/api/v1/links/${world.linkId}/authorizations`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(started.status, 201, await started.clone().text());
  const { flowId, authorizationUrl } = (await started.json()) as {
    flowId: string;
    authorizationUrl: string;
  };
  // The start URL is under the cluster's base URL, whichever node made it.
  const start = new URL(authorizationUrl);
  assert.equal(start.origin, new URL(DEFAULT_BASE_URL).origin);

  const opened = await fetch(`${two.origin}${start.pathname}`, { redirect: 'manual' });
  assert.equal(opened.status, 303, await opened.clone().text());
  const flowCookie = opened.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .find((pair) => pair.startsWith('__Host-outlink-flow-'));
  assert.ok(flowCookie, 'node 2 set the flow-binding cookie');
  const callback = await world.provider.as.login(opened.headers.get('location') ?? '', {
    email: ALICE,
  });
  assert.equal(callback.origin, new URL(DEFAULT_BASE_URL).origin);

  const landed = await fetch(`${three.origin}${callback.pathname}${callback.search}`, {
    headers: { cookie: flowCookie },
    redirect: 'manual',
  });
  assert.ok(landed.status < 400, `callback on node 3: ${landed.status} ${await landed.text()}`);

  // The outcome reads the same on every node.
  for (const node of nodes) {
    const outcome = await fetch(`${node.origin}/api/v1/authorizations/${flowId}`, {
      headers: bearer,
    });
    const body = (await outcome.json()) as { status: string; connectionId?: string };
    assert.equal(body.status, 'succeeded', JSON.stringify(body));
    assert.ok(body.connectionId);
  }
  // The start URL was used once, on node 2: node 1 refuses it now.
  const again = await fetch(`${one.origin}${start.pathname}`, { redirect: 'manual' });
  assert.equal(again.status, 410);
  // And node 2 hands out the new connection's token.
  const outcome = (await (
    await fetch(`${two.origin}/api/v1/authorizations/${flowId}`, { headers: bearer })
  ).json()) as { connectionId: string };
  const token = await fetch(`${two.origin}/api/v1/connections/${outcome.connectionId}/token`, {
    headers: bearer,
  });
  assert.equal(token.status, 200);
  assert.equal(((await token.json()) as { account: string }).account, ALICE);
});
