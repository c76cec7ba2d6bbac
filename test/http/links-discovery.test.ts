import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type HttpsPeer, jsonHandler, startHttpsPeer } from '../peers/https-server.js';
import { type AuthorizationServer, startAuthorizationServer } from '../peers/oidc-provider.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { closedPort } from '../support/ports.js';

const suffix = (endpoint: string) =>
  createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);

for (const dialect of Dialects) {
  describe(`custom link discovery (RFC 8414 / OpenID) on ${dialect}`, () => {
    let as: AuthorizationServer;
    let liar: HttpsPeer;
    let outlink: TestOutlink;

    before(async () => {
      as = await startAuthorizationServer();
      // A document copied from the real server, served from another origin: its `issuer`
      // is not the URL it was fetched from, the mix-up RFC 8414 §3.3 forbids.
      const document = await (await as.fetch(as.endpoints.discovery)).json();
      liar = await startHttpsPeer(jsonHandler(document));
      outlink = await startOutlink(dialect, { fetch: as.fetch });
    });

    after(async () => {
      await outlink?.close();
      await liar?.close();
      await as?.close();
    });

    const post = async (payload: Record<string, unknown>) =>
      outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers: await outlink.tokenHeaders(),
        payload,
      });

    const customLink = (overrides: Record<string, unknown>) => ({
      name: `Custom ${Math.random().toString(36).slice(2, 8)}`,
      provider: 'custom',
      clientId: 'outlink',
      clientSecret: 'discovery-secret',
      scopes: ['openid', 'email', 'offline_access'],
      ...overrides,
    });

    const counts = async () => {
      const db = outlink.services.store.db;
      const links = await db
        .selectFrom('links')
        .select(db.fn.countAll().as('n'))
        .executeTakeFirst();
      const events = await db
        .selectFrom('events')
        .select(db.fn.countAll().as('n'))
        .where('type', 'like', 'link.%')
        .executeTakeFirst();
      return { links: Number(links?.n), events: Number(events?.n) };
    };

    it('fills both endpoints from the issuer’s discovery document', async () => {
      const res = await post(customLink({ issuer: as.issuer }));
      assert.equal(res.statusCode, 201, res.body);
      const link = res.json();
      assert.equal(link.issuer, as.issuer);
      assert.equal(link.authorizationEndpoint, as.endpoints.authorization);
      assert.equal(link.tokenEndpoint, as.endpoints.token);
      assert.equal(
        link.redirectUrl,
        `https://localhost:8443/oauth2/callback/${suffix(as.endpoints.authorization)}`,
      );
      const shown = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${link.id}`,
        headers: await outlink.tokenHeaders(),
      });
      assert.equal(shown.json().authorizationEndpoint, as.endpoints.authorization);
    });

    it('refuses an issuer that does not answer with 422 discovery_failed and stores nothing', async () => {
      const before = await counts();
      const res = await post(customLink({ issuer: `https://127.0.0.1:${await closedPort()}` }));
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json().error.code, 'discovery_failed');
      assert.deepEqual(await counts(), before);
    });

    it('refuses a document whose issuer differs from the URL asked with 422 discovery_failed', async () => {
      const before = await counts();
      const res = await post(customLink({ issuer: liar.origin }));
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json().error.code, 'discovery_failed');
      assert.deepEqual(await counts(), before);
    });

    it('refuses an http:// issuer with 422 endpoint_not_https before fetching anything', async () => {
      const before = await counts();
      const res = await post(customLink({ issuer: `http://127.0.0.1:${as.port}` }));
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(
        { code: res.json().error.code, field: res.json().error.field },
        { code: 'endpoint_not_https', field: 'issuer' },
      );
      assert.deepEqual(await counts(), before);
    });

    it('re-discovers when an update changes the issuer, and keeps the link when that fails', async () => {
      const created = (await post(customLink({ issuer: as.issuer }))).json();
      const stored = await outlink.services.store.db
        .selectFrom('links')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      const res = await outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${created.id}`,
        headers: await outlink.tokenHeaders(),
        payload: { issuer: liar.origin },
      });
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json().error.code, 'discovery_failed');
      const after = await outlink.services.store.db
        .selectFrom('links')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(after, stored);
    });
  });
}
