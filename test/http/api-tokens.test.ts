import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { hashToken } from '../../src/crypto/tokens.js';
import { Dialects, googleLink, startOutlink, type TestOutlink } from '../support/harness.js';

interface ErrorJson {
  error: { code: string; field?: string };
}

const errorOf = (res: LightMyRequestResponse) => (res.json() as ErrorJson).error;

for (const dialect of Dialects) {
  describe(`API tokens on ${dialect}`, () => {
    let outlink: TestOutlink;
    let admin: Record<string, string>;

    const create = (payload: Record<string, unknown>) =>
      outlink.app.inject({ method: 'POST', url: '/api/v1/api-tokens', headers: admin, payload });
    const tokenRows = () =>
      outlink.services.store.db.selectFrom('api_tokens').selectAll().execute();

    before(async () => {
      outlink = await startOutlink(dialect);
      admin = await outlink.adminHeaders();
    });
    after(() => outlink.close());

    it('creates a token shown once, stores only its hash, and lets it authenticate', async () => {
      const res = await create({ name: '  ci runner  ' });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as { id: string; token: string };
      assert.deepEqual(Object.keys(body).sort(), ['id', 'token']);
      assert.match(body.token, /^olk_[\w-]{43}$/);

      const list = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/api-tokens',
        headers: admin,
      });
      assert.equal(list.statusCode, 200);
      const items = (list.json() as { items: Record<string, unknown>[] }).items;
      const mine = items.find((t) => t.id === body.id);
      assert.deepEqual(
        { ...mine, createdAt: undefined },
        {
          id: body.id,
          name: 'ci runner',
          scopes: ['admin'],
          linkIds: [],
          connectionIds: [],
          createdBy: 'admin',
          createdAt: undefined,
          lastUsedAt: null,
        },
      );
      assert.ok(!list.body.includes(body.token), 'the list shows the token');
      assert.ok(!list.body.includes(hashToken(body.token)), 'the list shows the hash');

      const rows = await tokenRows();
      const row = rows.find((r) => r.id === body.id);
      assert.equal(row?.token_hash, hashToken(body.token));
      assert.ok(!JSON.stringify(rows).includes(body.token), 'the raw token is in the database');

      const me = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/session',
        headers: { authorization: `Bearer ${body.token}` },
      });
      assert.equal(me.statusCode, 200, me.body);
      assert.deepEqual(me.json(), { kind: 'api-token', actor: 'ci runner' });
      const used = (await tokenRows()).find((r) => r.id === body.id);
      assert.ok(used?.last_used_at, 'use is recorded');

      for (const line of outlink.logLines) assert.ok(!line.includes(body.token), line);
    });

    it('revokes a token: it stops working at once and records both events', async () => {
      const { id, token } = (await create({ name: 'short-lived' })).json() as {
        id: string;
        token: string;
      };
      const bearer = { authorization: `Bearer ${token}` };
      const before = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/links',
        headers: bearer,
      });
      assert.equal(before.statusCode, 200);

      const revoke = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-tokens/${id}`,
        headers: admin,
      });
      assert.equal(revoke.statusCode, 204, revoke.body);

      const afterRevoke = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/links',
        headers: bearer,
      });
      assert.equal(afterRevoke.statusCode, 401);
      assert.equal(errorOf(afterRevoke).code, 'not_authenticated');

      const again = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-tokens/${id}`,
        headers: admin,
      });
      assert.equal(again.statusCode, 404);
      assert.equal(errorOf(again).code, 'api_token_not_found');
      const unknown = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-tokens/${randomUUID()}`,
        headers: admin,
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(errorOf(unknown).code, 'api_token_not_found');

      const list = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/api-tokens',
        headers: admin,
      });
      const ids = (list.json() as { items: { id: string }[] }).items.map((t) => t.id);
      assert.ok(!ids.includes(id), 'a revoked token is still listed');

      const events = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/events',
        headers: admin,
      });
      const items = (
        events.json() as { items: { type: string; actor: string; data: { id?: string } }[] }
      ).items;
      const created = items.find((e) => e.type === 'api_token.created' && e.data.id === id);
      const revoked = items.find((e) => e.type === 'api_token.revoked' && e.data.id === id);
      assert.ok(created, 'api_token.created missing');
      assert.ok(revoked, 'api_token.revoked missing');
      assert.equal(created.actor, 'admin');
      assert.equal(revoked.actor, 'admin');
      assert.ok(!events.body.includes(token));
      assert.ok(!events.body.includes(hashToken(token)));
    });

    it('limits token:read tokens to links that exist, and refuses links on admin tokens', async () => {
      const link = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers: admin,
        payload: googleLink(),
      });
      assert.equal(link.statusCode, 201, link.body);
      const linkId = (link.json() as { id: string }).id;
      const countBefore = (await tokenRows()).length;

      const unknownLink = await create({
        name: 'r',
        scopes: ['token:read'],
        linkIds: [randomUUID()],
      });
      assert.equal(unknownLink.statusCode, 422, unknownLink.body);
      assert.deepEqual(
        { code: errorOf(unknownLink).code, field: errorOf(unknownLink).field },
        { code: 'field_invalid', field: 'linkIds' },
      );

      const unknownConnection = await create({
        name: 'r',
        scopes: ['token:read'],
        connectionIds: [randomUUID()],
      });
      assert.equal(unknownConnection.statusCode, 422);
      assert.equal(errorOf(unknownConnection).field, 'connectionIds');

      const adminWithLinks = await create({ name: 'a', scopes: ['admin'], linkIds: [linkId] });
      assert.equal(adminWithLinks.statusCode, 422, adminWithLinks.body);
      assert.deepEqual(
        { code: errorOf(adminWithLinks).code, field: errorOf(adminWithLinks).field },
        { code: 'field_invalid', field: 'linkIds' },
      );
      // Without scopes a token is admin, so links are refused there too.
      const defaultWithLinks = await create({ name: 'a', linkIds: [linkId] });
      assert.equal(defaultWithLinks.statusCode, 422);

      assert.equal((await tokenRows()).length, countBefore, 'a refused token was written');

      const reader = await create({ name: 'reader', scopes: ['token:read'], linkIds: [linkId] });
      assert.equal(reader.statusCode, 201, reader.body);
      const list = await outlink.app.inject({
        method: 'GET',
        url: '/api/v1/api-tokens',
        headers: admin,
      });
      const listed = (
        list.json() as { items: { id: string; scopes: string[]; linkIds: string[] }[] }
      ).items.find((t) => t.id === (reader.json() as { id: string }).id);
      assert.deepEqual(listed?.scopes, ['token:read']);
      assert.deepEqual(listed?.linkIds, [linkId]);
    });

    it('refuses bad bodies with precise codes and writes nothing', async () => {
      const countBefore = (await tokenRows()).length;
      const cases: [Record<string, unknown>, number, string][] = [
        [{}, 422, 'field_required'],
        [{ name: '' }, 422, 'field_empty'],
        [{ name: '   ' }, 422, 'field_invalid'],
        [{ name: 'x'.repeat(101) }, 422, 'field_too_long'],
        [{ name: 42 }, 422, 'field_type'],
        [{ name: 'n', scopes: ['root'] }, 422, 'field_invalid'],
        [{ name: 'n', scopes: [] }, 422, 'field_empty'],
        [{ name: 'n', linkIds: ['not-a-uuid'] }, 422, 'field_invalid'],
        [{ name: 'n', extra: true }, 422, 'unknown_field'],
      ];
      for (const [payload, status, code] of cases) {
        const res = await create(payload);
        assert.equal(res.statusCode, status, `${JSON.stringify(payload)} → ${res.body}`);
        assert.equal(errorOf(res).code, code, JSON.stringify(payload));
      }
      const malformed = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '{"name":',
      });
      assert.equal(malformed.statusCode, 400);
      assert.equal(errorOf(malformed).code, 'body_malformed');
      assert.equal((await tokenRows()).length, countBefore);
    });
  });
}
