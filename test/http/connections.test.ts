import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FORCED_REFRESH_INTERVAL_MS } from '../../src/tokens/token-service.js';
import {
  type ConnectionJson,
  connect,
  createLink,
  type DanceWorld,
  eventsOf,
  startDance,
  type TokenJson,
} from '../oauth/dance-support.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB, introspect, storedTokens } from '../support/worlds.js';

for (const dialect of Dialects) {
  describe(`connections and the token routes on ${dialect}`, () => {
    let world: DanceWorld;
    /** A link with alice only, one with alice and bob, one with nobody. */
    let single: { id: string };
    let pair: { id: string };
    let empty: { id: string };
    let aliceSingle: string;
    let alicePair: string;
    let bobPair: string;

    before(async () => {
      world = await startDance(dialect);
      single = await createLink(world);
      pair = await createLink(world);
      empty = await createLink(world);
      aliceSingle = await connect(world, single.id, ALICE);
      alicePair = await connect(world, pair.id, ALICE);
      bobPair = await connect(world, pair.id, BOB);
    });
    after(async () => {
      await world?.close();
    });

    const get = async (url: string, headers?: Record<string, string>) =>
      world.outlink.app.inject({
        method: 'GET',
        url,
        headers: headers ?? (await world.outlink.adminHeaders()),
      });

    const readToken = async (scope: {
      linkIds?: string[];
      connectionIds?: string[];
    }): Promise<Record<string, string>> => {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await world.outlink.adminHeaders(),
        payload: { name: `reader ${Math.random()}`, scopes: ['token:read'], ...scope },
      });
      assert.equal(res.statusCode, 201, res.body);
      return { authorization: `Bearer ${(res.json() as { token: string }).token}` };
    };

    const expectToken = async (
      res: Awaited<ReturnType<typeof get>>,
      connectionId: string,
      account: string,
    ) => {
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json() as TokenJson;
      const stored = await storedTokens(world, connectionId);
      assert.deepEqual(Object.keys(body).sort(), [
        'accessToken',
        'account',
        'expiresAt',
        'scopes',
        'tokenType',
      ]);
      assert.equal(body.accessToken, stored.accessToken);
      assert.equal(body.account, account);
      assert.equal(body.tokenType.toLowerCase(), 'bearer');
      assert.deepEqual(body.scopes, ['openid', 'email', 'offline_access']);
      assert.ok(body.expiresAt && Date.parse(body.expiresAt) > world.clock.now().getTime());
      assert.ok(!res.body.includes(stored.refreshToken ?? '-'), 'never the refresh token');
      return body;
    };

    const refused = async (res: Awaited<ReturnType<typeof get>>, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal((res.json() as { error: { code: string } }).error.code, code, res.body);
      return (res.json() as { error: { code: string; message: string } }).error;
    };

    it('lists and shows connections without tokens', async () => {
      const res = await get(`/api/v1/links/${pair.id}/connections`);
      assert.equal(res.statusCode, 200, res.body);
      const items = (res.json() as { items: ConnectionJson[] }).items;
      assert.deepEqual(
        items.map((c) => [c.id, c.account, c.status]),
        [
          [alicePair, ALICE, 'valid'],
          [bobPair, BOB, 'valid'],
        ],
      );
      const tokens = await storedTokens(world, alicePair);
      assert.ok(!res.body.includes(tokens.accessToken));
      const one = await get(`/api/v1/connections/${bobPair}`);
      assert.equal(one.statusCode, 200);
      assert.deepEqual(Object.keys(one.json()).sort(), [
        'account',
        'createdAt',
        'expiresAt',
        'id',
        'lastRefreshedAt',
        'linkId',
        'scopes',
        'status',
      ]);
      await refused(
        await get('/api/v1/links/00000000-0000-4000-8000-000000000000/connections'),
        404,
        'link_not_found',
      );
      await refused(
        await get('/api/v1/connections/00000000-0000-4000-8000-000000000000'),
        404,
        'connection_not_found',
      );
    });

    it('hands the admin a live access token for a connection and for a one-connection link', async () => {
      const byConnection = await expectToken(
        await get(`/api/v1/connections/${aliceSingle}/token`),
        aliceSingle,
        ALICE,
      );
      const byLink = await expectToken(
        await get(`/api/v1/links/${single.id}/token`),
        aliceSingle,
        ALICE,
      );
      assert.equal(byLink.accessToken, byConnection.accessToken);
      const seen = await introspect(world, byLink.accessToken);
      assert.equal(seen.active, true);
      assert.equal(seen.email, ALICE);
      // Also through an admin API token.
      await expectToken(
        await get(`/api/v1/links/${single.id}/token`, await world.outlink.tokenHeaders()),
        aliceSingle,
        ALICE,
      );
    });

    it('refreshes once for a consumer whose server rejected the token (x-rejected-token)', async () => {
      const url = `/api/v1/connections/${aliceSingle}/token`;
      const admin = await world.outlink.adminHeaders();
      const first = (await get(url)).json() as TokenJson;
      const calls = world.proxy.count(world.tokenPath);
      // A forced refresh waits out the interval since the last one (issue 11).
      world.clock.advance(FORCED_REFRESH_INTERVAL_MS);
      const again = await get(url, { ...admin, 'x-rejected-token': first.accessToken });
      assert.equal(again.statusCode, 200, again.body);
      const renewed = again.json() as TokenJson;
      assert.notEqual(renewed.accessToken, first.accessToken);
      assert.equal(world.proxy.count(world.tokenPath), calls + 1);
      // A second consumer reporting the same old token gets the new one: no second refresh.
      const late = await get(`/api/v1/links/${single.id}/token`, {
        ...admin,
        'x-rejected-token': first.accessToken,
      });
      assert.equal((late.json() as TokenJson).accessToken, renewed.accessToken);
      assert.equal(world.proxy.count(world.tokenPath), calls + 1);
      // The rejected token never reaches a log line.
      assert.ok(world.outlink.logLines.every((line) => !line.includes(first.accessToken)));
    });

    it('selects the account of a link with several, and says which exist when none is named', async () => {
      const error = await refused(
        await get(`/api/v1/links/${pair.id}/token`),
        409,
        'ambiguous_connection',
      );
      assert.equal(
        error.message,
        'The link has several connections: alice@example.test, bob@example.test.',
      );
      await expectToken(
        await get(`/api/v1/links/${pair.id}/token?account=${encodeURIComponent(BOB)}`),
        bobPair,
        BOB,
      );
      await expectToken(
        await get(`/api/v1/links/${pair.id}/token?account=${encodeURIComponent(ALICE)}`),
        alicePair,
        ALICE,
      );
      await refused(
        await get(`/api/v1/links/${pair.id}/token?account=carol%40example.test`),
        404,
        'connection_not_found',
      );
    });

    it('answers 409 not_authorized for a link without connections', async () => {
      await refused(await get(`/api/v1/links/${empty.id}/token`), 409, 'not_authorized');
      await refused(
        await get('/api/v1/links/00000000-0000-4000-8000-000000000000/token'),
        404,
        'link_not_found',
      );
    });

    it('lets a token:read API token for the link read its connections’ tokens', async () => {
      const reader = await readToken({ linkIds: [pair.id] });
      await expectToken(
        await get(`/api/v1/links/${pair.id}/token?account=${encodeURIComponent(BOB)}`, reader),
        bobPair,
        BOB,
      );
      await expectToken(
        await get(`/api/v1/connections/${alicePair}/token`, reader),
        alicePair,
        ALICE,
      );
      // …and nothing of another link, nor any admin route.
      await refused(await get(`/api/v1/links/${single.id}/token`, reader), 403, 'forbidden');
      await refused(
        await get(`/api/v1/connections/${aliceSingle}/token`, reader),
        403,
        'forbidden',
      );
      await refused(await get(`/api/v1/connections/${alicePair}`, reader), 403, 'forbidden');
      await refused(await get(`/api/v1/links/${pair.id}/connections`, reader), 403, 'forbidden');
    });

    it('lets a token:read API token for one connection read that one only', async () => {
      const reader = await readToken({ connectionIds: [bobPair] });
      await expectToken(await get(`/api/v1/connections/${bobPair}/token`, reader), bobPair, BOB);
      await expectToken(
        await get(`/api/v1/links/${pair.id}/token?account=${encodeURIComponent(BOB)}`, reader),
        bobPair,
        BOB,
      );
      // The one connection it may read is the link's only one as far as it is concerned.
      await expectToken(await get(`/api/v1/links/${pair.id}/token`, reader), bobPair, BOB);
      await refused(await get(`/api/v1/connections/${alicePair}/token`, reader), 403, 'forbidden');
      await refused(
        await get(`/api/v1/links/${pair.id}/token?account=${encodeURIComponent(ALICE)}`, reader),
        403,
        'forbidden',
      );
      // Another link's accounts are none of its business: not even their names.
      const other = await get(`/api/v1/links/${single.id}/token`, reader);
      await refused(other, 403, 'forbidden');
      assert.ok(!other.body.includes(ALICE));
    });

    it('refuses the token routes without credentials (401)', async () => {
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${aliceSingle}/token`,
      });
      await refused(res, 401, 'not_authenticated');
    });

    it('refreshes on request: POST /connections/:id/refresh returns the connection with a new token', async () => {
      const before = await storedTokens(world, aliceSingle);
      world.clock.advance(1_000);
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${aliceSingle}/refresh`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 200, res.body);
      const c = res.json() as ConnectionJson;
      assert.equal(c.id, aliceSingle);
      assert.equal(c.status, 'valid');
      assert.equal(c.lastRefreshedAt, world.clock.now().toISOString());
      const after = await storedTokens(world, aliceSingle);
      assert.notEqual(after.accessToken, before.accessToken);
      assert.notEqual(after.refreshToken, before.refreshToken);
      assert.equal((await introspect(world, after.refreshToken ?? '')).active, true);
      assert.equal((await introspect(world, before.refreshToken ?? '')).active, false);
      const refreshed = (await eventsOf(world, 'connection.refreshed')).at(-1);
      assert.equal(refreshed?.connectionId, aliceSingle);
      assert.deepEqual(refreshed?.data, { account: ALICE, rotated: true });
    });

    it('deletes a connection: its tokens are gone and the event says whose it was', async () => {
      const link = await createLink(world);
      const id = await connect(world, link.id, BOB);
      const res = await world.outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/connections/${id}`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 204, res.body);
      await refused(await get(`/api/v1/connections/${id}/token`), 404, 'connection_not_found');
      await refused(await get(`/api/v1/links/${link.id}/token`), 409, 'not_authorized');
      const deleted = (await eventsOf(world, 'connection.deleted')).at(-1);
      assert.equal(deleted?.connectionId, id);
      assert.deepEqual(deleted?.data, { account: BOB });
    });
  });
}
