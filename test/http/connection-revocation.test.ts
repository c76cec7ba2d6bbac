import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  createLink,
  type DanceWorld,
  eventsOf,
  startDance,
} from '../oauth/dance-support.js';
import { googleLink } from '../support/harness.js';
import { ALICE, BOB, introspect, storedTokens } from '../support/worlds.js';

/**
 * Issue 11: deleting a connection revokes its refresh token at the provider (RFC 7009) where
 * the provider has a revocation endpoint — here the real oidc-provider's, which then no
 * longer introspects the token as active. A provider that fails does not keep the connection:
 * the failure is an event. The link page says when a provider cannot revoke (Microsoft).
 */
describe('deleting a connection revokes its grant', () => {
  let world: DanceWorld;

  before(async () => {
    world = await startDance('sqlite');
  });
  after(() => world?.close());

  const remove = async (id: string) =>
    world.outlink.app.inject({
      method: 'DELETE',
      url: `/api/v1/connections/${id}`,
      headers: await world.outlink.adminHeaders(),
    });
  const page = async (linkId: string) =>
    (
      await world.outlink.app.inject({
        method: 'GET',
        url: `/admin/applinks/${linkId}`,
        headers: await world.outlink.adminHeaders(),
      })
    ).body;

  it('revokes the refresh token at the revocation endpoint', async () => {
    const link = await createLink(world, { revocationEndpoint: world.as.endpoints.revocation });
    const id = await connect(world, link.id, ALICE);
    const { refreshToken } = await storedTokens(world, id);
    assert.ok(refreshToken);
    assert.equal((await introspect(world, refreshToken)).active, true);
    const res = await remove(id);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal((await introspect(world, refreshToken)).active, false);
    assert.equal((await eventsOf(world, 'connection.revocation_failed')).length, 0);
    assert.match(await page(link.id), /also revokes its grant at the provider/);
  });

  it('deletes anyway when the provider fails, and records the failure', async () => {
    const link = await createLink(world, {
      revocationEndpoint: world.proxy.via(world.as.endpoints.revocation),
    });
    const id = await connect(world, link.id, ALICE);
    const { refreshToken } = await storedTokens(world, id);
    world.proxy.queue({ kind: 'respond', status: 503, body: 'down' });
    const res = await remove(id);
    assert.equal(res.statusCode, 204, res.body);
    const get = await world.outlink.app.inject({
      method: 'GET',
      url: `/api/v1/connections/${id}`,
      headers: await world.outlink.adminHeaders(),
    });
    assert.equal(get.statusCode, 404);
    const failed = await eventsOf(world, 'connection.revocation_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.connectionId, id);
    assert.equal(failed[0]?.data.reason, 'provider_unavailable');
    assert.ok(!JSON.stringify(failed).includes(refreshToken ?? '-'));
    assert.equal((await introspect(world, refreshToken!)).active, true);
  });

  it('revokes nothing without an endpoint, and the link page says so', async () => {
    const link = await createLink(world);
    const id = await connect(world, link.id, ALICE);
    const { refreshToken } = await storedTokens(world, id);
    assert.equal((await remove(id)).statusCode, 204);
    assert.equal((await introspect(world, refreshToken!)).active, true);
    assert.match(await page(link.id), /has no revocation endpoint/);
    const microsoft = await world.outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await world.outlink.adminHeaders(),
      payload: { name: 'Exchange', provider: 'microsoft', clientId: 'c', clientSecret: 's' },
    });
    assert.equal(microsoft.statusCode, 201, microsoft.body);
    assert.match(await page((microsoft.json() as { id: string }).id), /has no revocation endpoint/);
    const google = await world.outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await world.outlink.adminHeaders(),
      payload: googleLink({ name: 'Gmail' }),
    });
    assert.equal(google.statusCode, 201, google.body);
    assert.match(
      await page((google.json() as { id: string }).id),
      /also revokes its grant at the provider/,
    );
  });

  it('takes a revocation endpoint for custom links only, over https', async () => {
    const link = await createLink(world);
    const patch = async (payload: Record<string, unknown>) =>
      world.outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${link.id}`,
        headers: await world.outlink.adminHeaders(),
        payload,
      });
    const plain = await patch({ revocationEndpoint: 'http://127.0.0.1/revoke' });
    assert.equal(plain.statusCode, 422);
    assert.equal((plain.json() as { error: { code: string } }).error.code, 'endpoint_not_https');
    const ok = await patch({ revocationEndpoint: world.as.endpoints.revocation });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(
      (ok.json() as { revocationEndpoint?: string }).revocationEndpoint,
      world.as.endpoints.revocation,
    );
  });
});

/**
 * Issue 11: deleting a whole link revokes every one of its connections' grants the same way
 * (the same revoker as a deleted connection's), and the answer says what came of it — in
 * particular when the provider has no revocation endpoint and the grants stay alive there.
 * The real oidc-provider's revocation endpoint sits behind the fault proxy, which counts the
 * revocation requests.
 */
describe('deleting a link revokes its connections’ grants', () => {
  let world: DanceWorld;

  before(async () => {
    world = await startDance('sqlite');
  });
  after(() => world?.close());

  const removeLink = async (id: string, lang?: string) =>
    world.outlink.app.inject({
      method: 'DELETE',
      url: `/api/v1/links/${id}`,
      headers: {
        ...(await world.outlink.adminHeaders()),
        ...(lang ? { 'accept-language': lang } : {}),
      },
    });
  const revocationPath = () => new URL(world.as.endpoints.revocation).pathname;

  it('revokes the refresh token of every connection, once each', async () => {
    const link = await createLink(world, {
      revocationEndpoint: world.proxy.via(world.as.endpoints.revocation),
    });
    const alice = await connect(world, link.id, ALICE);
    const bob = await connect(world, link.id, BOB);
    const tokens = [
      (await storedTokens(world, alice)).refreshToken!,
      (await storedTokens(world, bob)).refreshToken!,
    ];
    for (const token of tokens) assert.equal((await introspect(world, token)).active, true);
    const before = world.proxy.count(revocationPath());

    const res = await removeLink(link.id);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      id: link.id,
      connections: 2,
      revocation: {
        status: 'revoked',
        revoked: 2,
        failed: 0,
        message: 'The grants of 2 connection(s) were revoked at the provider.',
      },
    });
    assert.equal(world.proxy.count(revocationPath()) - before, 2);
    for (const token of tokens) assert.equal((await introspect(world, token)).active, false);
    assert.equal((await eventsOf(world, 'connection.revocation_failed')).length, 0);
  });

  it('deletes anyway when the provider fails, says so and records each failure', async () => {
    const link = await createLink(world, {
      revocationEndpoint: world.proxy.via(world.as.endpoints.revocation),
    });
    const id = await connect(world, link.id, ALICE);
    const { refreshToken } = await storedTokens(world, id);
    world.proxy.queue({ kind: 'respond', status: 503, body: 'down' });
    const res = await removeLink(link.id);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { revocation: { status: string; failed: number; message: string } };
    assert.equal(body.revocation.status, 'failed');
    assert.equal(body.revocation.failed, 1);
    assert.match(body.revocation.message, /could not be revoked at the provider/);
    const failed = (await eventsOf(world, 'connection.revocation_failed')).filter(
      (e) => e.linkId === link.id,
    );
    assert.deepEqual(
      failed.map((e) => [e.connectionId, e.data.reason]),
      [[id, 'provider_unavailable']],
    );
    assert.ok(!JSON.stringify(failed).includes(refreshToken ?? '-'));
    const gone = await world.outlink.app.inject({
      method: 'GET',
      url: `/api/v1/links/${link.id}`,
      headers: await world.outlink.adminHeaders(),
    });
    assert.equal(gone.statusCode, 404);
  });

  it('says when the provider has no revocation endpoint, in English and Japanese', async () => {
    for (const lang of ['en', 'ja']) {
      const link = await createLink(world, { name: `No revocation ${lang}` });
      const id = await connect(world, link.id, ALICE);
      const { refreshToken } = await storedTokens(world, id);
      const before = world.proxy.count(revocationPath());
      const res = await removeLink(link.id, lang);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { revocation: { status: string; message: string } };
      assert.equal(body.revocation.status, 'unsupported');
      assert.match(
        body.revocation.message,
        lang === 'en' ? /has no revocation endpoint/ : /取り消しエンドポイントがない/,
      );
      assert.equal(world.proxy.count(revocationPath()), before);
      assert.equal((await introspect(world, refreshToken!)).active, true);
    }
  });
});
