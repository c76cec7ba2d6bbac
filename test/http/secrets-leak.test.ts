import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { BODY_LIMIT_BYTES, type RouteEntry, routesOf } from '../../src/http/app.js';
import {
  ADMIN_PASSWORD,
  Dialects,
  googleLink,
  startOutlink,
  type TestOutlink,
} from '../support/harness.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Every spelling of a secret a careless answer or log line might carry. */
function spellings(value: string): string[] {
  const b = Buffer.from(value);
  return [
    value,
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    encodeURIComponent(value),
  ];
}

interface Exchange {
  readonly label: string;
  readonly res: LightMyRequestResponse;
}

for (const dialect of Dialects) {
  describe(`no secret leaks on ${dialect}`, () => {
    let outlink: TestOutlink;
    const run = randomBytes(6).toString('hex');
    let counter = 0;
    /** Every marker handed to the server; none may come back or reach a log line. */
    const markers: string[] = [];
    const marker = () => {
      counter += 1;
      const m = `GOCSPX-LEAKMARK-${run}-${counter}`;
      markers.push(m);
      return m;
    };
    /** Credentials that must never be logged (they are, of course, in some answers). */
    const credentials: string[] = [ADMIN_PASSWORD];
    const exchanges: Exchange[] = [];

    const send = async (label: string, options: InjectOptions) => {
      const res = await outlink.app.inject(options);
      exchanges.push({ label, res });
      return res;
    };

    const createLink = async (headers: Record<string, string>, secret: string) => {
      const res = await send('create link', {
        method: 'POST',
        url: '/api/v1/links',
        headers,
        payload: googleLink({ clientSecret: secret }),
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };

    const createToken = async (headers: Record<string, string>, payload: object = {}) => {
      const res = await send('create token', {
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers,
        payload: { name: `leak-${randomBytes(3).toString('hex')}`, ...payload },
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as { id: string; token: string };
      credentials.push(body.token);
      return body;
    };

    /** A plausible body for each route; the link routes get a fresh marker secret. */
    const bodyFor = (route: RouteEntry): object => {
      if (route.url === '/api/v1/links') return googleLink({ clientSecret: marker() });
      if (route.url === '/api/v1/links/:id')
        return { clientSecret: marker(), description: 'walked' };
      if (route.url === '/api/v1/api-tokens') return { name: 'walked' };
      if (route.url === '/api/v1/session') return { username: 'admin', password: ADMIN_PASSWORD };
      return {};
    };

    /** Walks every route with real ids, deleting last so the walk keeps something to read. */
    const walk = async (mode: string, headers: Record<string, string>) => {
      const linkId = await createLink(headers, marker());
      const token = await createToken(headers);
      const urlFor = (route: RouteEntry) =>
        route.url
          .replace('/links/:id', `/links/${linkId}`)
          .replace('/api-tokens/:id', `/api-tokens/${token.id}`)
          .replace(/:[A-Za-z0-9_]+/g, () => randomUUID());
      const routes = routesOf(outlink.app).filter(
        // Signing out and changing the password end the session; they run on their own below.
        (r) =>
          !(r.url === '/api/v1/session' && r.method === 'DELETE') &&
          r.url !== '/api/v1/session/password',
      );
      const ordered = [
        ...routes.filter((r) => r.method !== 'DELETE'),
        ...routes.filter((r) => r.method === 'DELETE'),
      ];
      for (const route of ordered) {
        const options: InjectOptions = {
          method: route.method as InjectOptions['method'],
          url: urlFor(route),
          headers: { ...headers, 'accept-language': counter % 2 ? 'ja' : 'en' },
          ...(BODY_METHODS.has(route.method) ? { payload: bodyFor(route) } : {}),
        };
        const res = await send(`${mode} ${route.method} ${route.url}`, options);
        assert.notEqual(res.statusCode, 500, `${mode} ${route.method} ${route.url}: ${res.body}`);
        if (route.url === '/api/v1/links/:id' && route.method === 'PATCH') {
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(await outlink.services.links.clientSecret(linkId), markers.at(-1));
        }
      }
    };

    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LOG_LEVEL: 'trace' } });
      const cookie = await outlink.adminHeaders();
      credentials.push(cookie.cookie!.split('=')[1]!, cookie['x-csrf-token']!);
      const bearer = await outlink.tokenHeaders();
      credentials.push(bearer.authorization!.replace('Bearer ', ''));

      await walk('cookie', cookie);
      await walk('bearer', bearer);

      // Error paths that carry a marker: wrong types, failed validation, conflicts, parsers.
      const initial = marker();
      const linkId = await createLink(bearer, initial);
      const existing = (await outlink.services.links.get(linkId)).name;
      const reader = await createToken(bearer, { scopes: ['token:read'], linkIds: [linkId] });
      const bad: [string, InjectOptions, number][] = [
        [
          'name of wrong type',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({ clientSecret: marker(), name: 42 }),
          },
          422,
        ],
        [
          'secret as array',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({ clientSecret: [marker()] }),
          },
          422,
        ],
        [
          'secret as object',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: { value: marker() } },
          },
          422,
        ],
        [
          'secret as number-like',
          { method: 'PATCH', url: `/api/v1/links/${linkId}`, payload: { clientId: [marker()] } },
          422,
        ],
        [
          'marker in scopes',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({ clientSecret: marker(), scopes: marker() }),
          },
          422,
        ],
        [
          'http endpoint on create',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: {
              name: `c-${run}`,
              provider: 'custom',
              clientId: 'c',
              clientSecret: marker(),
              scopes: ['mail'],
              authorizationEndpoint: 'http://as.example/auth',
              tokenEndpoint: 'https://as.example/token',
            },
          },
          422,
        ],
        [
          'http endpoint on update',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: marker(), tokenEndpoint: 'http://as.example/token' },
          },
          422,
        ],
        [
          'unknown field on update',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: marker(), colour: 'red' },
          },
          422,
        ],
        [
          'too long secret',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: `${marker()}${'x'.repeat(4096)}` },
          },
          422,
        ],
        [
          'empty scopes on update',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: marker(), scopes: [] },
          },
          422,
        ],
        [
          'duplicate name',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({ clientSecret: marker(), name: existing }),
          },
          409,
        ],
        [
          'provider change',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            payload: { clientSecret: marker(), provider: 'microsoft' },
          },
          422,
        ],
        [
          'unknown link',
          {
            method: 'PATCH',
            url: `/api/v1/links/${randomUUID()}`,
            payload: { clientSecret: marker() },
          },
          404,
        ],
        [
          'malformed JSON',
          {
            method: 'POST',
            url: '/api/v1/links',
            headers: { 'content-type': 'application/json' },
            payload: `{"clientSecret":"${marker()}", "name": `,
          },
          400,
        ],
        [
          'malformed JSON on update',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            headers: { 'content-type': 'application/json' },
            payload: `{"clientSecret":"${marker()}"}}`,
          },
          400,
        ],
        [
          'oversized body',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({
              clientSecret: marker(),
              description: 'x'.repeat(BODY_LIMIT_BYTES),
            }),
          },
          413,
        ],
        [
          'wrong media type',
          {
            method: 'POST',
            url: '/api/v1/links',
            headers: { 'content-type': 'text/plain' },
            payload: `clientSecret=${marker()}`,
          },
          415,
        ],
        [
          'form body',
          {
            method: 'PATCH',
            url: `/api/v1/links/${linkId}`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: `clientSecret=${marker()}`,
          },
          415,
        ],
        [
          'wrong login with marker password',
          {
            method: 'POST',
            url: '/api/v1/session',
            payload: { username: 'admin', password: marker() },
          },
          401,
        ],
        [
          'login password of wrong type',
          {
            method: 'POST',
            url: '/api/v1/session',
            payload: { username: 'admin', password: [marker()] },
          },
          422,
        ],
        [
          'password change, wrong current',
          {
            method: 'POST',
            url: '/api/v1/session/password',
            payload: { currentPassword: marker(), newPassword: marker() },
          },
          403,
        ],
      ];
      for (const [label, options, status] of bad) {
        const headers =
          options.url === '/api/v1/session' ? {} : label.startsWith('password') ? cookie : bearer;
        const res = await send(label, {
          ...options,
          headers: { ...headers, ...(options.headers as Record<string, string> | undefined) },
        });
        assert.equal(res.statusCode, status, `${label}: ${res.body}`);
      }
      // The same bodies from strangers and from a token:read token.
      for (const headers of [{}, { authorization: `Bearer ${reader.token}` }]) {
        const res = await send('unauthorised create', {
          method: 'POST',
          url: '/api/v1/links',
          headers,
          payload: googleLink({ clientSecret: marker() }),
        });
        assert.ok([401, 403].includes(res.statusCode), res.body);
      }
      // Nothing refused was written: the link still holds the secret it was created with.
      assert.equal(await outlink.services.links.clientSecret(linkId), initial);

      // A successful password change, then signing out, end the walk.
      const newPassword = `new-admin-password-${run}`;
      credentials.push(newPassword);
      const changed = await send('password change', {
        method: 'POST',
        url: '/api/v1/session/password',
        headers: cookie,
        payload: { currentPassword: ADMIN_PASSWORD, newPassword },
      });
      assert.equal(changed.statusCode, 204, changed.body);
      const login = await send('login with the new password', {
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'admin', password: newPassword },
      });
      assert.equal(login.statusCode, 200);
      const session = String(login.headers['set-cookie']).split(';')[0]!;
      const csrf = (login.json() as { csrfToken: string }).csrfToken;
      credentials.push(session.split('=')[1]!, csrf);
      const out = await send('logout', {
        method: 'DELETE',
        url: '/api/v1/session',
        headers: { cookie: session, 'x-csrf-token': csrf },
      });
      assert.equal(out.statusCode, 204);
    });
    after(() => outlink.close());

    it('exercised every route and many error paths', () => {
      const labels = new Set(exchanges.map((e) => e.label));
      for (const route of routesOf(outlink.app)) {
        if (route.url === '/api/v1/session' && route.method === 'DELETE') continue;
        if (route.url === '/api/v1/session/password') continue;
        assert.ok(
          labels.has(`cookie ${route.method} ${route.url}`),
          `${route.method} ${route.url}`,
        );
        assert.ok(
          labels.has(`bearer ${route.method} ${route.url}`),
          `${route.method} ${route.url}`,
        );
      }
      assert.ok(markers.length > 30, `${markers.length} markers`);
    });

    it('returns no marker in any answer body or header', () => {
      for (const { label, res } of exchanges) {
        const text = `${JSON.stringify(res.headers)}\n${res.body}`;
        for (const m of markers) {
          for (const s of spellings(m))
            assert.ok(!text.includes(s), `${label} answered ${m}: ${text}`);
        }
      }
    });

    it('writes no marker, password or token to any log line', () => {
      assert.ok(outlink.logLines.length > exchanges.length, 'the log captured too little');
      for (const line of outlink.logLines) {
        for (const secret of [...markers, ...credentials]) {
          for (const s of spellings(secret))
            assert.ok(!line.includes(s), `log has ${secret}: ${line}`);
        }
      }
    });

    it('records no marker in the event log', async () => {
      const rows = await outlink.services.store.db.selectFrom('events').select('data').execute();
      const text = JSON.stringify(rows);
      for (const m of markers) assert.ok(!text.includes(m), m);
    });
  });
}
