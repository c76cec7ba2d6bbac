import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { type RouteEntry, routesOf } from '../../../src/http/app.js';
import { Dialects, startOutlink, type TestOutlink } from '../../support/harness.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The one route that must answer strangers: signing in. */
const isLogin = (r: RouteEntry) => r.method === 'POST' && r.url === '/api/v1/session';

/** A request for `route` with every `:param` a fresh uuid and `{}` as body where one fits. */
function requestFor(route: RouteEntry, headers: Record<string, string> = {}): InjectOptions {
  const url = route.url.replace(/:[A-Za-z0-9_]+/g, () => randomUUID());
  const method = route.method as InjectOptions['method'];
  return BODY_METHODS.has(route.method)
    ? { method, url, headers, payload: {} }
    : { method, url, headers };
}

function assertError(
  res: { statusCode: number; body: string; json(): unknown },
  route: RouteEntry,
  status: number,
  code: string,
) {
  const where = `${route.method} ${route.url}`;
  assert.equal(res.statusCode, status, `${where}: ${res.statusCode} ${res.body}`);
  // HEAD answers carry no body; the status is the whole answer.
  if (route.method === 'HEAD') return;
  assert.equal((res.json() as { error: { code: string } }).error.code, code, where);
}

for (const dialect of Dialects) {
  describe(`route table authentication on ${dialect}`, () => {
    let outlink: TestOutlink;
    let apiRoutes: RouteEntry[];

    before(async () => {
      outlink = await startOutlink(dialect);
      apiRoutes = routesOf(outlink.app).filter((r) => r.url.startsWith('/api/v1'));
    });
    after(() => outlink.close());

    it('lists the registered routes, so the walk below cannot pass on an empty table', () => {
      const names = apiRoutes.map((r) => `${r.method} ${r.url}`);
      for (const expected of [
        'POST /api/v1/session',
        'POST /api/v1/links',
        'GET /api/v1/links/:id',
        'PATCH /api/v1/links/:id',
        'DELETE /api/v1/links/:id',
        'GET /api/v1/events',
        'POST /api/v1/api-tokens',
        'DELETE /api/v1/api-tokens/:id',
        'GET /api/v1/providers',
      ]) {
        assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
      }
      assert.ok(apiRoutes.length >= 20, `only ${apiRoutes.length} routes`);
    });

    it('only POST /api/v1/session is public', () => {
      const open = apiRoutes.filter((r) => r.auth === 'public' || r.auth === undefined);
      assert.deepEqual(
        open.map((r) => `${r.method} ${r.url}`),
        ['POST /api/v1/session'],
      );
    });

    it('answers 401 not_authenticated to every route without credentials', async () => {
      for (const route of apiRoutes.filter((r) => !isLogin(r))) {
        const res = await outlink.app.inject(requestFor(route));
        assertError(res, route, 401, 'not_authenticated');
      }
    });

    it('answers 401 to a garbage bearer token, a malformed Authorization and a stale cookie', async () => {
      const variants: Record<string, string>[] = [
        { authorization: 'Bearer olk_not-a-real-token' },
        { authorization: 'Bearer' },
        { authorization: 'Basic YWRtaW46cGFzc3dvcmQ=' },
        { cookie: '__Host-outlink_session=ols_forged', 'x-csrf-token': 'olc_forged' },
      ];
      for (const route of apiRoutes.filter((r) => !isLogin(r))) {
        for (const headers of variants) {
          const res = await outlink.app.inject(requestFor(route, headers));
          assertError(res, route, 401, 'not_authenticated');
        }
      }
    });

    it('answers 403 forbidden to a token:read API token on every admin route', async () => {
      const created = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: await outlink.adminHeaders(),
        payload: { name: 'reader', scopes: ['token:read'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const headers = { authorization: `Bearer ${(created.json() as { token: string }).token}` };
      const adminRoutes = apiRoutes.filter((r) => r.auth === 'admin');
      assert.ok(adminRoutes.length > 0);
      for (const route of adminRoutes) {
        const res = await outlink.app.inject(requestFor(route, headers));
        assertError(res, route, 403, 'forbidden');
      }
      // token:read routes let the token in; whether it reaches a given link is theirs to say.
      for (const route of apiRoutes.filter((r) => r.auth === 'token:read')) {
        const res = await outlink.app.inject(requestFor(route, headers));
        assert.notEqual(res.statusCode, 401, `${route.method} ${route.url}: ${res.body}`);
        assert.ok(res.statusCode < 500, `${route.method} ${route.url}: ${res.body}`);
      }
    });

    it('lets an admin through the gate on every route (no 401/403/5xx)', async () => {
      for (const headers of [await outlink.tokenHeaders(), await outlink.adminHeaders()]) {
        for (const route of apiRoutes) {
          // Signing out or changing the password would end the session the walk uses.
          if (route.url === '/api/v1/session' && route.method !== 'GET') continue;
          if (route.url === '/api/v1/session/password') continue;
          const res = await outlink.app.inject(requestFor(route, headers));
          assert.ok(
            res.statusCode < 500 && ![401, 403].includes(res.statusCode),
            `${route.method} ${route.url}: ${res.statusCode} ${res.body}`,
          );
        }
      }
    });

    it('leaves probes and the API document public', async () => {
      for (const url of ['/healthz', '/readyz', '/api/docs']) {
        const res = await outlink.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
      }
    });
  });
}
