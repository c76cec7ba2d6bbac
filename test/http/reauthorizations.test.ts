import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  callback,
  connect,
  connectionRows,
  createLink,
  type DanceWorld,
  eventsOf,
  startDance,
} from '../oauth/dance-support.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';

interface CreatedJson {
  id: string;
  connectionId: string;
  status: string;
  url: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  emailedTo: string | null;
}

/**
 * Issue 13: re-authorization without a console. An administrator makes a one-time link for one
 * connection; its owner opens it with no Outlink account, signs in at the real oidc-provider,
 * and only that connection is updated. The link works once, expires after a day (the injected
 * clock), can be revoked, refuses another account, and its secret never reaches the events,
 * the listings or the logs.
 */
for (const dialect of Dialects)
  describe(`re-authorization links (${dialect})`, () => {
    let world: DanceWorld;
    let linkId: string;
    let alice: string;
    let bob: string;
    /** Every link made, to look for their secrets where they must not be. */
    const urls: string[] = [];

    before(async () => {
      world = await startDance(dialect, { env: { OUTLINK_LOG_LEVEL: 'debug' } });
      linkId = (await createLink(world)).id;
      alice = await connect(world, linkId, ALICE);
      bob = await connect(world, linkId, BOB);
    });
    after(() => world?.close());

    const api = async (
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      payload?: Record<string, unknown>,
    ) =>
      world.outlink.app.inject({
        method,
        url,
        headers: await world.outlink.adminHeaders(),
        ...(payload ? { payload } : {}),
      });

    const create = async (connectionId: string, body: Record<string, unknown> = {}) => {
      const res = await api('POST', `/api/v1/connections/${connectionId}/reauthorization`, body);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const created = res.json() as CreatedJson;
      urls.push(created.url);
      return created;
    };

    /** Opens a link as a browser with no Outlink session: no cookie at all. */
    const open = (url: string, headers: Record<string, string> = {}) =>
      world.outlink.app.inject({ method: 'GET', url: new URL(url).pathname, headers });

    /** Opens a link, signs in at the provider as `email`, and comes back with the binding. */
    const run = async (url: string, email: string) => {
      const opened = await open(url);
      assert.equal(opened.statusCode, 303, opened.body);
      const providerUrl = String(opened.headers.location);
      assert.ok(providerUrl.startsWith(world.as.endpoints.authorization), providerUrl);
      const cookie = opened.cookies.find((c) => c.name.startsWith('__Host-outlink-flow-'));
      assert.ok(cookie, 'no flow-binding cookie');
      assert.equal(cookie.secure, true);
      assert.equal(cookie.httpOnly, true);
      const callbackUrl = await world.as.login(providerUrl, { email });
      return callback(world, callbackUrl, `${cookie.name}=${cookie.value}`);
    };

    const rowOf = async (id: string) => (await connectionRows(world)).find((r) => r.id === id);

    it('works once, for its connection only; the owner needs no Outlink account', async () => {
      const created = await create(alice);
      const url = new URL(created.url);
      assert.equal(url.origin, world.outlink.services.config.baseUrl.origin);
      assert.equal(url.protocol, 'https:');
      assert.match(url.pathname, /^\/oauth2\/reauthorize\/[A-Za-z0-9_-]{43}$/);
      assert.equal(created.status, 'active');
      assert.equal(created.connectionId, alice);
      const day = Date.parse(created.expiresAt) - world.clock.now().getTime();
      assert.equal(day, 24 * 3_600_000);

      const aliceBefore = await rowOf(alice);
      const bobBefore = await rowOf(bob);
      const page = await run(created.url, ALICE);
      assert.equal(page.statusCode, 200, page.body);
      assert.match(page.body, new RegExp(ALICE));

      const aliceAfter = await rowOf(alice);
      assert.ok(aliceBefore && aliceAfter);
      assert.equal(aliceAfter.token_version, aliceBefore.token_version + 1);
      assert.notEqual(aliceAfter.access_token_enc, aliceBefore.access_token_enc);
      assert.deepEqual(await rowOf(bob), bobBefore, "another connection's row changed");
      assert.equal((await connectionRows(world)).length, 2, 'a connection was added');

      const [authorized] = (await eventsOf(world, 'connection.authorized')).slice(-1);
      assert.equal(authorized?.connectionId, alice);
      assert.equal(authorized?.data.reauthorized, true);
      const [opened] = await eventsOf(world, 'connection.reauthorization_link_opened');
      assert.equal(opened?.connectionId, alice);
      assert.equal(opened?.data.invitationId, created.id);

      // A second use: 410 with its own code, in English and Japanese, and no redirect.
      const again = await open(created.url);
      assert.equal(again.statusCode, 410, again.body);
      assert.match(again.body, /reauthorization_link_used/);
      assert.match(again.body, /already used; it works once/);
      assert.equal(again.headers.location, undefined);
      assert.deepEqual(again.cookies, []);
      const ja = await open(created.url, { 'accept-language': 'ja' });
      assert.equal(ja.statusCode, 410);
      assert.match(ja.body, /1 回だけ使えます/);

      const listed = await api('GET', `/api/v1/connections/${alice}/reauthorization`);
      assert.equal(listed.statusCode, 200, listed.body);
      const [item] = (listed.json() as { items: CreatedJson[] }).items;
      assert.equal(item?.id, created.id);
      assert.equal(item?.status, 'used');
      assert.ok(item?.usedAt);
      assert.equal((item as unknown as Record<string, unknown>).url, undefined);
    });

    it('refuses another account, and changes nothing', async () => {
      const created = await create(alice);
      const before = await connectionRows(world);
      const page = await run(created.url, BOB);
      assert.equal(page.statusCode, 400, page.body);
      assert.match(page.body, /account_mismatch/);
      assert.match(page.body, new RegExp(`You signed in as ${BOB}, but this link is for ${ALICE}`));
      assert.match(page.body, /Nothing was changed/);
      assert.doesNotMatch(page.body, /\/admin\//, 'the owner is sent to the admin pages');
      assert.deepEqual(await connectionRows(world), before);
      const [failed] = (await eventsOf(world, 'connection.authorization_failed')).slice(-1);
      assert.equal(failed?.connectionId, alice);
      assert.equal(failed?.data.reason, 'account_mismatch');
    });

    it('an unknown link is 404 with its code', async () => {
      const unknown = await world.outlink.app.inject({
        method: 'GET',
        url: `/oauth2/reauthorize/${'A'.repeat(43)}`,
      });
      assert.equal(unknown.statusCode, 404, unknown.body);
      assert.match(unknown.body, /reauthorization_link_invalid/);
      const malformed = await world.outlink.app.inject({
        method: 'GET',
        url: '/oauth2/reauthorize/nope',
      });
      assert.equal(malformed.statusCode, 404);
    });

    it('a revoked link fails, and a new link replaces the one before', async () => {
      const first = await create(bob);
      const second = await create(bob);
      const replaced = await open(first.url);
      assert.equal(replaced.statusCode, 410, replaced.body);
      assert.match(replaced.body, /reauthorization_link_revoked/);

      const revoked = await api('DELETE', `/api/v1/connections/${bob}/reauthorization`);
      assert.equal(revoked.statusCode, 200, revoked.body);
      assert.deepEqual(revoked.json(), { revoked: 1 });
      const late = await open(second.url);
      assert.equal(late.statusCode, 410, late.body);
      assert.match(late.body, /reauthorization_link_revoked/);
      assert.match(late.body, /revoked by an administrator/);
      const ja = await open(second.url, { 'accept-language': 'ja' });
      assert.match(ja.body, /管理者によって取り消されました/);
      const [event] = (await eventsOf(world, 'connection.reauthorization_link_revoked')).slice(-1);
      assert.equal(event?.data.invitationId, second.id);
      const none = await api('DELETE', `/api/v1/connections/${bob}/reauthorization`);
      assert.deepEqual(none.json(), { revoked: 0 });
    });

    it('expires after a day, or after the hours asked for within bounds', async () => {
      const start = world.clock.now();
      try {
        const daily = await create(bob);
        const short = await create(alice, { expiresInHours: 2 });
        assert.equal(Date.parse(short.expiresAt) - start.getTime(), 2 * 3_600_000);
        world.clock.advance(24 * 3_600_000);
        const late = await open(daily.url);
        assert.equal(late.statusCode, 410, late.body);
        assert.match(late.body, /reauthorization_link_expired/);
        const lateShort = await open(short.url);
        assert.match(lateShort.body, /reauthorization_link_expired/);
      } finally {
        world.clock.set(start);
      }
      for (const hours of [0, 169]) {
        const res = await api('POST', `/api/v1/connections/${alice}/reauthorization`, {
          expiresInHours: hours,
        });
        assert.equal(res.statusCode, 422, res.body);
        assert.equal(
          (res.json() as { error: { code: string } }).error.code,
          'reauthorization_hours_invalid',
        );
      }
      const missing = await api(
        'POST',
        '/api/v1/connections/00000000-0000-4000-8000-000000000000/reauthorization',
        {},
      );
      assert.equal(missing.statusCode, 404, missing.body);
    });

    it('is for administrators only', async () => {
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/connections/${alice}/reauthorization`,
        payload: {},
      });
      assert.equal(res.statusCode, 401, res.body);
    });

    it('its secret is never in the events, the listings, the database or the logs', async () => {
      assert.ok(urls.length >= 5);
      const secrets = urls.map((u) => new URL(u).pathname.split('/').pop() ?? '');
      const events = JSON.stringify(
        await world.outlink.services.store.db.selectFrom('events').selectAll().execute(),
      );
      const rows = JSON.stringify(
        await world.outlink.services.store.db
          .selectFrom('reauthorization_invitations')
          .selectAll()
          .execute(),
      );
      const listings = [
        (await api('GET', `/api/v1/connections/${alice}/reauthorization`)).body,
        (await api('GET', `/api/v1/connections/${bob}/reauthorization`)).body,
        (await api('GET', '/api/v1/events?limit=200')).body,
      ].join('\n');
      const logs = world.outlink.logLines.join('\n');
      assert.match(logs, /\/oauth2\/reauthorize\/\[redacted\]/, 'the requests were not logged');
      for (const secret of secrets) {
        assert.equal(secret.length, 43);
        for (const [where, text] of [
          ['events', events],
          ['rows', rows],
          ['listings', listings],
          ['logs', logs],
        ] as const) {
          assert.ok(!text.includes(secret), `a link's secret is in the ${where}`);
        }
      }
    });
  });
