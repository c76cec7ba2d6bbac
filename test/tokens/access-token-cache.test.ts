import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { databaseEnv, runCli } from '../cli/cli-harness.js';
import {
  connect,
  createLink,
  type DanceWorld,
  startDance,
  type TokenJson,
  tokenOf,
} from '../oauth/dance-support.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB, CAROL } from '../support/worlds.js';

/**
 * Issue 12: the token API serves a decrypted access token from an in-process cache until its
 * refresh margin, and never serves it once it is stale — after a refresh, a connection or
 * link deleted here or by another process (`outlink connections delete`), or a key rotation
 * (`outlink keys rotate`). Each case first puts the token in the cache (two reads), then
 * changes it, then reads again.
 */
for (const dialect of Dialects) {
  describe(`the access-token cache is never stale on ${dialect}`, () => {
    let world: DanceWorld;
    let linkId: string;
    let admin: Record<string, string>;

    let bearer: Record<string, string>;
    // Through the admin session and through an API token: the token route then reuses the
    // cache counters read to verify the API token (one read of them per request).
    const served = async (id: string) => {
      // The API token first: it must see a change on its own, not after the session did.
      const viaToken = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${id}/token`,
        headers: bearer,
      });
      assert.equal(viaToken.statusCode, 200, viaToken.body);
      const res = await tokenOf(world, id);
      assert.equal(res.statusCode, 200, res.body);
      const token = (viaToken.json() as TokenJson).accessToken;
      assert.equal((res.json() as TokenJson).accessToken, token);
      return token;
    };
    /** Refused as gone, through the session and through the API token alike. */
    const gone = async (id: string) => {
      for (const headers of [bearer, admin]) {
        const res = await world.outlink.app.inject({
          method: 'GET',
          url: `/api/v1/connections/${id}/token`,
          headers,
        });
        assert.equal(res.statusCode, 404, res.body);
      }
    };
    const cached = async (id: string) => {
      const first = await served(id);
      assert.equal(await served(id), first);
      return first;
    };
    const cli = async (args: string[]) => {
      const result = await runCli(args, {
        env: databaseEnv(world.outlink.database),
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    };

    before(async () => {
      world = await startDance(dialect);
      linkId = (await createLink(world)).id;
      admin = await world.outlink.adminHeaders();
      bearer = await world.outlink.tokenHeaders();
    });
    after(() => world?.close());

    it('serves the new token after a refresh', async () => {
      const id = await connect(world, linkId, ALICE);
      const old = await cached(id);
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${id}/refresh`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      const now = await served(id);
      assert.notEqual(now, old);
      assert.equal(await served(id), now);
    });

    it('never serves a connection deleted here', async () => {
      const id = await connect(world, linkId, BOB);
      await cached(id);
      const res = await world.outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/connections/${id}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 204, res.body);
      await gone(id);
    });

    it('never serves a connection deleted by another process', async () => {
      const id = await connect(world, linkId, BOB);
      await cached(id);
      await cli(['connections', 'delete', id]);
      await gone(id);
    });

    it('never serves a connection of a deleted link', async () => {
      const other = (await createLink(world, { name: `deleted-${dialect}` })).id;
      const id = await connect(world, other, CAROL);
      await cached(id);
      const res = await world.outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/links/${other}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      await gone(id);
    });

    it('after outlink keys rotate, serves what the database holds under the new key', async () => {
      const id = await connect(world, linkId, CAROL);
      const before = await cached(id);
      await cli(['keys', 'rotate']);
      assert.equal(await served(id), before);
      // The next refresh's token, stored under the new key, is what is served.
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${id}/refresh`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      const now = await served(id);
      assert.notEqual(now, before);
    });

    it('checks a token:read grant against the cached row: another connection is refused', async () => {
      const mine = await connect(world, linkId, ALICE);
      const other = await connect(world, linkId, CAROL);
      const grant = async (connectionId: string) => {
        const res = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/api-tokens',
          headers: admin,
          payload: {
            name: `read ${connectionId}`,
            scopes: ['token:read'],
            connectionIds: [connectionId],
          },
        });
        assert.equal(res.statusCode, 201, res.body);
        return { authorization: `Bearer ${(res.json() as { token: string }).token}` };
      };
      const read = async (headers: Record<string, string>) =>
        world.outlink.app.inject({
          method: 'GET',
          url: `/api/v1/connections/${mine}/token`,
          headers,
        });
      const granted = await grant(mine);
      const refused = await grant(other);
      await cached(mine);
      for (let i = 0; i < 2; i++) {
        const ok = await read(granted);
        assert.equal(ok.statusCode, 200, ok.body);
        const no = await read(refused);
        assert.equal(no.statusCode, 403, no.body);
        assert.equal((no.json() as { error: { code: string } }).error.code, 'forbidden');
        assert.doesNotMatch(no.body, /accessToken/);
      }
    });
  });
}
