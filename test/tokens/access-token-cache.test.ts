import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastPathOf } from '../../src/http/fast-path.js';
import { databaseEnv, runCli } from '../cli/cli-harness.js';
import {
  connect,
  createLink,
  type DanceWorld,
  movePastExpiry,
  startDance,
  type TokenJson,
  tokenOf,
} from '../oauth/dance-support.js';
import { oauthError } from '../peers/fault-proxy.js';
import { Dialects } from '../support/harness.js';
import { comparableHeaders, getOverSocket } from '../support/wire.js';
import { ALICE, BOB, CAROL } from '../support/worlds.js';

/**
 * Issue 12: the token API serves a decrypted access token from an in-process cache until its
 * refresh margin, and never serves it once it is stale — after a refresh, a connection or
 * link deleted here or by another process (`outlink connections delete`), or a key rotation
 * (`outlink keys rotate`). Each case first puts the token in the cache (two reads), then
 * changes it, then reads again.
 *
 * Every read is made three ways: `inject()` with an API token and with the admin session
 * (Fastify's route), and over a real socket with the API token, where the route's fast path
 * answers what the cache holds before Fastify sees the request. The socket's answer must be
 * the route's, byte for byte and header for header; a read that must not come from the
 * cache must not come from the fast path.
 */
const ROUTE = '/api/v1/connections/:id/token';
const CALLERS = 20;

for (const dialect of Dialects) {
  describe(`the access-token cache is never stale on ${dialect}`, () => {
    let world: DanceWorld;
    let linkId: string;
    let admin: Record<string, string>;

    let bearer: Record<string, string>;
    let port = 0;
    /** Answers from the fast path so far. */
    const fast = () => fastPathOf(world.outlink.app)?.served[ROUTE] ?? 0;
    /** Answers the fast path gave after waiting for the token service (a read, a refresh). */
    const waited = () => fastPathOf(world.outlink.app)?.waited[ROUTE] ?? 0;
    const overSocket = (path: string, headers: Record<string, string>) =>
      getOverSocket(port, path, headers);
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
      // The route just cached it: the socket's read is the fast path's, and the same answer.
      const before = fast();
      const wire = await overSocket(`/api/v1/connections/${id}/token`, bearer);
      assert.equal(fast(), before + 1, 'answered by the fast path');
      assert.equal(wire.statusCode, 200, wire.body);
      assert.equal(wire.body, viaToken.body);
      assert.deepEqual(comparableHeaders(wire.headers), comparableHeaders(viaToken.headers));
      assert.match(String(wire.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      return token;
    };
    /** Refused as gone, through the session, the API token and the socket alike. */
    const gone = async (id: string) => {
      for (const headers of [bearer, admin]) {
        const res = await world.outlink.app.inject({
          method: 'GET',
          url: `/api/v1/connections/${id}/token`,
          headers,
        });
        assert.equal(res.statusCode, 404, res.body);
      }
      const before = fast();
      const wire = await overSocket(`/api/v1/connections/${id}/token`, bearer);
      assert.equal(wire.statusCode, 404, wire.body);
      assert.equal(fast(), before, 'not from the fast path');
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
      await world.outlink.app.listen({ host: '127.0.0.1', port: 0 });
      port = (world.outlink.app.server.address() as AddressInfo).port;
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
        const before = fast();
        const wireOk = await overSocket(`/api/v1/connections/${mine}/token`, granted);
        assert.equal(wireOk.statusCode, 200, wireOk.body);
        assert.equal(wireOk.body, ok.body);
        const wireNo = await overSocket(`/api/v1/connections/${mine}/token`, refused);
        assert.equal(wireNo.statusCode, 403, wireNo.body);
        assert.doesNotMatch(wireNo.body, /accessToken/);
        assert.equal(fast(), before + 1, "the refusal is the route's");
      }
    });

    it('answers a link with its connections as the route does, and a session through the route', async () => {
      await connect(world, linkId, ALICE);
      const path = `/api/v1/links/${linkId}`;
      const route = await world.outlink.app.inject({ method: 'GET', url: path, headers: bearer });
      assert.equal(route.statusCode, 200, route.body);
      assert.ok((route.json() as { connections: unknown[] }).connections.length > 0);
      const links = () => fastPathOf(world.outlink.app)?.served['/api/v1/links/:id'] ?? 0;
      const before = links();
      const wire = await overSocket(path, bearer);
      assert.equal(wire.statusCode, 200, wire.body);
      assert.equal(wire.body, route.body);
      assert.deepEqual(comparableHeaders(wire.headers), comparableHeaders(route.headers));
      assert.equal(links(), before + 1, 'answered by the fast path');
      // An admin session's cookie is the route's to check (CSRF, expiry): never the fast path.
      const bySession = await overSocket(path, admin);
      assert.equal(bySession.statusCode, 200, bySession.body);
      assert.equal(bySession.body, route.body);
      // A token:read token may not read a link (admin only): refused by the route.
      const reader = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: admin,
        payload: { name: `reader ${dialect}`, scopes: ['token:read'], linkIds: [linkId] },
      });
      assert.equal(reader.statusCode, 201, reader.body);
      const refused = await overSocket(path, {
        authorization: `Bearer ${(reader.json() as { token: string }).token}`,
      });
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(links(), before + 1);
    });

    it('leaves to the route every read it must not answer from the cache', async () => {
      const id = await connect(world, linkId, ALICE);
      const token = await cached(id);
      const path = `/api/v1/connections/${id}/token`;
      const before = fast();
      const cases: [string, string, Record<string, string>, number][] = [
        ['a query', `${path}?x=1`, bearer, 200],
        ['an id in capitals', path.replace(id, id.toUpperCase()), bearer, 404],
        ['a trailing slash', `${path}/`, bearer, 404],
        ['no credential', path, {}, 401],
        ['an unknown API token', path, { authorization: 'Bearer olk_unknown' }, 401],
        ['a malformed Authorization header', path, { authorization: 'Basic eDp5' }, 401],
      ];
      for (const [what, url, headers, status] of cases) {
        const wire = await overSocket(url, headers);
        assert.equal(wire.statusCode, status, `${what}: ${wire.body}`);
        if (status === 200) assert.equal((JSON.parse(wire.body) as TokenJson).accessToken, token);
      }
      assert.equal(fast(), before, 'none of them from the fast path');
      // A consumer reporting the token rejected gets a refresh, never the cached token (past
      // the forced-refresh interval since the connection's last refresh, in an earlier test).
      world.clock.advance(31_000);
      const rejected = await overSocket(path, { ...bearer, 'x-rejected-token': token });
      assert.equal(rejected.statusCode, 200, rejected.body);
      assert.notEqual((JSON.parse(rejected.body) as TokenJson).accessToken, token);
      assert.equal(fast(), before);
    });

    it('refuses a revoked API token at once over the socket', async () => {
      const id = await connect(world, linkId, BOB);
      const created = await world.outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: admin,
        payload: { name: `revoked ${dialect}`, scopes: ['token:read'], connectionIds: [id] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { id: tokenId, token } = created.json() as { id: string; token: string };
      const headers = { authorization: `Bearer ${token}` };
      const path = `/api/v1/connections/${id}/token`;
      for (let i = 0; i < 3; i++) assert.equal((await overSocket(path, headers)).statusCode, 200);
      const before = fast();
      assert.equal((await overSocket(path, headers)).statusCode, 200);
      assert.equal(fast(), before + 1, 'cached: from the fast path');
      const revoked = await world.outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-tokens/${tokenId}`,
        headers: admin,
      });
      assert.equal(revoked.statusCode, 204, revoked.body);
      const refused = await overSocket(path, headers);
      assert.equal(refused.statusCode, 401, refused.body);
      assert.doesNotMatch(refused.body, /accessToken/);
      assert.equal(fast(), before + 1);
    });

    it('lets callers on an expired token wait at the fast path for one refresh', async () => {
      const id = await connect(world, linkId, ALICE);
      const old = await cached(id);
      const path = `/api/v1/connections/${id}/token`;
      const before = { fast: fast(), waited: waited(), grants: world.proxy.count(world.tokenPath) };
      await movePastExpiry(world, id);
      // The provider's answer is held a while, so the callers arrive while the refresh is out.
      world.proxy.queue({ kind: 'delay', ms: 300 });
      const answers = await Promise.all(
        Array.from({ length: CALLERS }, () => overSocket(path, bearer)),
      );
      for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
      assert.equal(new Set(answers.map((a) => a.body)).size, 1, 'one token for every caller');
      const token = (JSON.parse(answers[0]!.body) as TokenJson).accessToken;
      assert.notEqual(token, old);
      assert.equal(world.proxy.count(world.tokenPath), before.grants + 1, 'one refresh');
      assert.equal(fast() + waited(), before.fast + before.waited + CALLERS, 'none by Fastify');
      assert.ok(waited() > before.waited, 'callers waited for the refresh at the fast path');
      // What they got is the route's answer, byte for byte and header for header.
      const route = await world.outlink.app.inject({ method: 'GET', url: path, headers: bearer });
      assert.equal(route.body, answers[0]!.body);
      assert.deepEqual(comparableHeaders(answers[0]!.headers), comparableHeaders(route.headers));
    });

    it('hands a failed refresh to the route, whose answer it is, the provider asked once', async () => {
      const id = await connect(world, linkId, CAROL);
      await cached(id);
      const path = `/api/v1/connections/${id}/token`;
      const before = { fast: fast(), waited: waited(), grants: world.proxy.count(world.tokenPath) };
      await movePastExpiry(world, id);
      world.proxy.queue({ ...oauthError('invalid_grant'), until: sleep(300) });
      const answers = await Promise.all(
        Array.from({ length: CALLERS }, () => overSocket(path, bearer)),
      );
      const route = await world.outlink.app.inject({ method: 'GET', url: path, headers: bearer });
      assert.equal(route.statusCode, 409, route.body);
      for (const answer of answers) {
        assert.equal(answer.statusCode, route.statusCode, answer.body);
        assert.equal(answer.body, route.body);
        assert.deepEqual(comparableHeaders(answer.headers), comparableHeaders(route.headers));
      }
      assert.equal(
        world.proxy.count(world.tokenPath),
        before.grants + 1,
        'the provider asked once',
      );
      assert.equal(fast(), before.fast);
      assert.equal(waited(), before.waited);
    });
  });
}
