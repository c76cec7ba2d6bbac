import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  callback,
  createLink,
  type DanceWorld,
  getFlow,
  startDance,
  startFlow,
} from '../oauth/dance-support.js';
import { Dialects } from '../support/harness.js';
import { ALICE, BOB } from '../support/worlds.js';

/**
 * Issue 11: an authorization started with an API token (or the CLI) is bound to the actor who
 * started it. The API answers Outlink's one-time start URL, not the provider's; opening it
 * sets a `__Host-` flow-binding cookie and redirects to the real oidc-provider; the callback
 * refuses a browser without that cookie (`authorization_not_bound`), a start URL works once,
 * and the events name the API token that started the flow.
 */
for (const dialect of Dialects)
  describe(`an API-started authorization is bound to the browser that opened its start URL (${dialect})`, () => {
    let world: DanceWorld;
    let token: Record<string, string>;

    before(async () => {
      world = await startDance(dialect);
      token = await world.outlink.tokenHeaders();
    });
    after(() => world?.close());

    /** Starts a flow with the API token: the answer is Outlink's start URL. */
    const startWithToken = async (linkId: string) => {
      const started = await startFlow(world, linkId, {}, token);
      const url = new URL(started.authorizationUrl);
      assert.equal(url.origin, world.outlink.services.config.baseUrl.origin);
      assert.match(url.pathname, /^\/oauth2\/start\/[A-Za-z0-9_-]{43}$/);
      return { ...started, startUrl: url };
    };
    /** Opens a start URL in a browser: its redirect and the cookies it sets. */
    const open = (startUrl: URL) =>
      world.outlink.app.inject({ method: 'GET', url: startUrl.pathname });
    /** The flow-binding cookie a start URL set, as a Cookie header. */
    const bindingOf = (res: Awaited<ReturnType<typeof open>>, flowId: string) => {
      const cookie = res.cookies.find((c) => c.name === `__Host-outlink-flow-${flowId}`);
      assert.ok(cookie, `no binding cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
      assert.equal(cookie.path, '/');
      assert.equal(cookie.secure, true);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(cookie.domain, undefined);
      assert.ok(cookie.maxAge !== undefined && cookie.maxAge > 0 && cookie.maxAge <= 600);
      return `${cookie.name}=${cookie.value}`;
    };

    it('the browser that opened the start URL completes it, and the events name the token', async () => {
      const link = await createLink(world);
      const { flowId, startUrl } = await startWithToken(link.id);
      const opened = await open(startUrl);
      assert.equal(opened.statusCode, 303, opened.body);
      const providerUrl = String(opened.headers.location);
      assert.ok(providerUrl.startsWith(world.as.endpoints.authorization), providerUrl);
      const binding = bindingOf(opened, flowId);

      const callbackUrl = await world.as.login(providerUrl, { email: ALICE });
      const page = await callback(world, callbackUrl, binding);
      assert.equal(page.statusCode, 200, page.body);
      const flow = await getFlow(world, flowId);
      assert.equal(flow.status, 'succeeded');

      const events = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/events?type=connection.authorized&linkId=${link.id}`,
        headers: await world.outlink.adminHeaders(),
      });
      const [authorized] = (events.json() as { items: { actor: string }[] }).items;
      assert.match(authorized?.actor ?? '', /^api-token:test-/);
    });

    it('refuses the callback in a browser that did not open the start URL', async () => {
      const link = await createLink(world);
      const { flowId, startUrl } = await startWithToken(link.id);
      const opened = await open(startUrl);
      assert.equal(opened.statusCode, 303);
      // Another browser (no cookie at all, not even an Outlink session) finishes the dance.
      const callbackUrl = await world.as.login(String(opened.headers.location), { email: BOB });
      const page = await callback(world, callbackUrl, null);
      assert.equal(page.statusCode, 403, page.body);
      assert.match(page.body, /authorization_not_bound/);
      assert.match(page.body, /did not open its start link/);
      const flow = await getFlow(world, flowId);
      assert.equal(flow.status, 'failed');
      assert.equal(flow.connectionId, undefined);
      const connections = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${link.id}/connections`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.deepEqual((connections.json() as { items: unknown[] }).items, []);
    });

    it('refuses a signed-in admin session that is not the binding, and another flow’s binding', async () => {
      const link = await createLink(world);
      const first = await startWithToken(link.id);
      const second = await startWithToken(link.id);
      const openedFirst = await open(first.startUrl);
      const openedSecond = await open(second.startUrl);
      const otherBinding = bindingOf(openedSecond, second.flowId);
      const callbackUrl = await world.as.login(String(openedFirst.headers.location), {
        email: ALICE,
      });
      // The admin's Outlink session plus the binding of the *other* flow: still not this flow's.
      const session = (await world.outlink.adminHeaders()).cookie;
      const page = await callback(world, callbackUrl, `${session}; ${otherBinding}`);
      assert.equal(page.statusCode, 403, page.body);
      assert.match(page.body, /authorization_not_bound/);
      assert.equal((await getFlow(world, first.flowId)).status, 'failed');
    });

    it('a start URL works once', async () => {
      const link = await createLink(world);
      const { startUrl } = await startWithToken(link.id);
      assert.equal((await open(startUrl)).statusCode, 303);
      const again = await open(startUrl);
      assert.equal(again.statusCode, 410, again.body);
      assert.match(again.body, /authorization_start_invalid/);
      assert.equal(again.headers.location, undefined);
      assert.deepEqual(again.cookies, []);
      const made = await world.outlink.app.inject({ method: 'GET', url: '/oauth2/start/nope' });
      assert.equal(made.statusCode, 410);
      const ja = await world.outlink.app.inject({
        method: 'GET',
        url: startUrl.pathname,
        headers: { 'accept-language': 'ja' },
      });
      assert.match(ja.body, /開始リンクは 1 回/);
    });

    it('a start URL opened after the flow expired is refused', async () => {
      const link = await createLink(world);
      const { startUrl } = await startWithToken(link.id);
      world.clock.advance(11 * 60_000);
      const late = await open(startUrl);
      assert.equal(late.statusCode, 410, late.body);
    });

    it('a flow started in the UI (session) still answers the provider URL, bound to the session', async () => {
      const link = await createLink(world);
      const started = await startFlow(world, link.id);
      assert.ok(started.authorizationUrl.startsWith(world.as.endpoints.authorization));
      const callbackUrl = await world.as.login(started.authorizationUrl, { email: ALICE });
      const refused = await callback(world, callbackUrl, null);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match(refused.body, /session_mismatch/);
    });
  });
