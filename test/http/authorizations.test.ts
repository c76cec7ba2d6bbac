import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callbackSuffix } from '../../src/domain/link.js';
import {
  authorize,
  CLIENT_ID,
  type ConnectionJson,
  callback,
  connect,
  connectionRows,
  createLink,
  type DanceWorld,
  eventsOf,
  getConnection,
  getFlow,
  startDance,
  startFlow,
} from '../oauth/dance-support.js';
import { oauthError } from '../peers/fault-proxy.js';
import { ADMIN_PASSWORD, Dialects, googleLink, startOutlink } from '../support/harness.js';
import { ALICE, BOB, introspect, storedTokens } from '../support/worlds.js';

const flowRows = (world: DanceWorld) =>
  world.outlink.services.store.db.selectFrom('authorization_flows').selectAll().execute();

/** The code shown on a failure page (`Error code: <code>…</code>`). */
const pageCode = (html: string) => /<code>([a-z0-9_]+)<\/code><\/small>/.exec(html)?.[1];

for (const dialect of Dialects) {
  describe(`the authorization dance over real HTTP on ${dialect}`, () => {
    let world: DanceWorld;

    before(async () => {
      world = await startDance(dialect);
    });
    after(async () => {
      await world?.close();
    });

    it('starts with PKCE S256, state, nonce and the registered redirect URL', async () => {
      const link = await createLink(world);
      const { flowId, authorizationUrl } = await startFlow(world, link.id);
      const url = new URL(authorizationUrl);
      assert.equal(`${url.origin}${url.pathname}`, world.as.endpoints.authorization);
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), CLIENT_ID);
      assert.equal(q.get('redirect_uri'), link.redirectUrl);
      assert.equal(q.get('scope'), 'openid email offline_access');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(q.get('state') ?? '', /^[A-Za-z0-9_-]{43,}$/);
      assert.match(q.get('nonce') ?? '', /^[A-Za-z0-9_-]{43,}$/);
      // offline_access is only honoured with prompt=consent (OpenID Connect Core §11).
      assert.equal(q.get('prompt'), 'consent');
      const flow = await getFlow(world, flowId);
      assert.deepEqual(flow, { flowId, linkId: link.id, status: 'pending' });
      // Only a hash of the state is kept.
      const row = (await flowRows(world)).find((r) => r.id === flowId);
      assert.ok(row);
      assert.ok(!JSON.stringify(row).includes(q.get('state') ?? '-'));
    });

    it('connects an account: page, flow outcome, connection, encrypted tokens, event', async () => {
      const link = await createLink(world);
      const { page, flow } = await authorize(world, link.id, ALICE);
      assert.equal(page.statusCode, 200, page.body);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.match(page.body, /<h1 data-status="succeeded">Connected<\/h1>/);
      assert.match(page.body, /authorized for alice@example\.test/);

      assert.equal(flow.status, 'succeeded');
      assert.equal(flow.linkId, link.id);
      assert.ok(flow.connectionId);
      assert.equal(flow.error, undefined);

      const c = await getConnection(world, flow.connectionId);
      assert.equal(c.account, ALICE);
      assert.equal(c.linkId, link.id);
      assert.equal(c.status, 'valid');
      assert.deepEqual(c.scopes, ['openid', 'email', 'offline_access']);
      assert.equal(c.lastError, undefined);
      const now = world.clock.now().getTime();
      assert.equal(c.expiresAt, new Date(now + 3600_000).toISOString());
      assert.equal(c.lastRefreshedAt, new Date(now).toISOString());

      // The tokens are the provider's real ones…
      const tokens = await storedTokens(world, c.id);
      const active = await introspect(world, tokens.accessToken);
      assert.equal(active.active, true);
      assert.equal(active.email, ALICE);
      assert.equal(active.client_id, CLIENT_ID);
      assert.ok(tokens.refreshToken);
      assert.equal((await introspect(world, tokens.refreshToken)).active, true);
      // …and nowhere in the clear: not in any column, and (SQLite) not in any file.
      const row = (await connectionRows(world)).find((r) => r.id === c.id);
      const columns = JSON.stringify(row);
      assert.ok(!columns.includes(tokens.accessToken));
      assert.ok(!columns.includes(tokens.refreshToken));
      if (dialect === 'sqlite') {
        const dir = world.outlink.database.dataDir;
        for (const file of readdirSync(dir)) {
          const bytes = readFileSync(join(dir, file)).toString('latin1');
          assert.ok(!bytes.includes(tokens.accessToken), `access token in ${file}`);
          assert.ok(!bytes.includes(tokens.refreshToken), `refresh token in ${file}`);
        }
      }

      const authorized = (await eventsOf(world, 'connection.authorized')).filter(
        (e) => e.connectionId === c.id,
      );
      assert.equal(authorized.length, 1);
      assert.equal(authorized[0]?.linkId, link.id);
      assert.deepEqual(authorized[0]?.data, {
        account: ALICE,
        flowId: flow.flowId,
        initiatedBy: 'admin',
        reauthorized: false,
      });

      // The link lists the connection, without any token.
      const shown = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${link.id}`,
        headers: await world.outlink.adminHeaders(),
      });
      const connections = (shown.json() as { connections: ConnectionJson[] }).connections;
      assert.deepEqual(
        connections.map((x) => [x.id, x.account, x.status]),
        [[c.id, ALICE, 'valid']],
      );
      assert.ok(!shown.body.includes(tokens.accessToken));
    });

    it('binds a flow started with an API token to the browser that opened its start URL', async () => {
      const link = await createLink(world);
      const started = await startFlow(world, link.id, {}, await world.outlink.tokenHeaders());
      // Issue 11: no session to bind, so the answer is Outlink's one-time start URL.
      const opened = await world.outlink.app.inject({
        method: 'GET',
        url: new URL(started.authorizationUrl).pathname,
      });
      assert.equal(opened.statusCode, 303, opened.body);
      const binding = opened.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
      const url = await world.as.login(String(opened.headers.location), { email: ALICE });
      const page = await callback(world, url, binding);
      assert.equal(page.statusCode, 200, page.body);
      const flow = await getFlow(world, started.flowId);
      assert.equal(flow.status, 'succeeded');
      const authorized = (await eventsOf(world, 'connection.authorized')).find(
        (e) => e.connectionId === flow.connectionId,
      );
      assert.match(String(authorized?.data.initiatedBy), /^api-token:/);
    });

    it('gives two accounts of one link two connections with their own tokens', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      const bob = await connect(world, link.id, BOB);
      assert.notEqual(alice, bob);
      const a = await storedTokens(world, alice);
      const b = await storedTokens(world, bob);
      assert.notEqual(a.accessToken, b.accessToken);
      assert.notEqual(a.refreshToken, b.refreshToken);
      assert.equal((await introspect(world, a.accessToken)).email, ALICE);
      assert.equal((await introspect(world, b.accessToken)).email, BOB);
      const rows = (await connectionRows(world)).filter((r) => r.link_id === link.id);
      assert.deepEqual(rows.map((r) => r.account).sort(), [ALICE, BOB]);
    });

    it('refuses to re-authorize alice’s connection with bob’s account, naming both, changing nothing', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      for (const withBobConnected of [false, true]) {
        if (withBobConnected) await connect(world, link.id, BOB);
        const before = await connectionRows(world);
        const { page, flow } = await authorize(world, link.id, BOB, { connectionId: alice });
        assert.equal(page.statusCode, 400, page.body);
        assert.equal(pageCode(page.body), 'account_mismatch');
        assert.equal(flow.status, 'failed');
        assert.equal(flow.connectionId, undefined);
        assert.equal(flow.error?.code, 'account_mismatch');
        assert.equal(
          flow.error?.message,
          'The provider signed in bob@example.test, but the connection being re-authorized belongs to alice@example.test.',
        );
        assert.match(flow.error?.remedy ?? '', /re-authorize as alice@example\.test/);
        assert.deepEqual(await connectionRows(world), before);
        const failed = (await eventsOf(world, 'connection.authorization_failed')).find(
          (e) => e.data.flowId === flow.flowId,
        );
        assert.equal(failed?.connectionId, alice);
        assert.equal(failed?.data.reason, 'account_mismatch');
      }
    });

    it('re-authorizing alice as alice updates the same connection with new tokens', async () => {
      const link = await createLink(world);
      const alice = await connect(world, link.id, ALICE);
      const before = await storedTokens(world, alice);
      const count = (await connectionRows(world)).length;
      world.clock.advance(60_000);
      const { flow } = await authorize(world, link.id, ALICE, { connectionId: alice });
      assert.equal(flow.status, 'succeeded', JSON.stringify(flow));
      assert.equal(flow.connectionId, alice);
      assert.equal((await connectionRows(world)).length, count);
      const now = await storedTokens(world, alice);
      assert.notEqual(now.accessToken, before.accessToken);
      assert.notEqual(now.refreshToken, before.refreshToken);
      assert.equal(now.version, before.version + 1);
      const c = await getConnection(world, alice);
      assert.equal(c.lastRefreshedAt, world.clock.now().toISOString());
      const last = (await eventsOf(world, 'connection.authorized')).at(-1);
      assert.deepEqual(last?.data, {
        account: ALICE,
        flowId: flow.flowId,
        initiatedBy: 'admin',
        reauthorized: true,
      });
      // Signing in as alice without naming the connection also lands on hers.
      const again = await authorize(world, link.id, ALICE);
      assert.equal(again.flow.connectionId, alice);
      assert.equal((await connectionRows(world)).length, count);
      // Addresses match without regard to case, as mail providers treat them.
      await world.outlink.services.store.db
        .updateTable('connections')
        .set({ account: ALICE.toUpperCase() })
        .where('id', '=', alice)
        .execute();
      const cased = await authorize(world, link.id, ALICE, { connectionId: alice });
      assert.equal(cased.flow.status, 'succeeded', JSON.stringify(cased.flow));
      assert.equal(cased.flow.connectionId, alice);
      assert.equal((await connectionRows(world)).length, count);
    });

    it('refuses a connectionId of another link with 404 connection_not_found', async () => {
      const one = await createLink(world);
      const other = await createLink(world);
      const alice = await connect(world, one.id, ALICE);
      const res = await world.outlink.app.inject({
        method: 'POST',
        url: `/api/v1/links/${other.id}/authorizations`,
        headers: await world.outlink.adminHeaders(),
        payload: { connectionId: alice },
      });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'connection_not_found');
    });

    describe('failures: each clear, nothing stored', () => {
      /** Runs the dance up to the provider's redirect, without coming back yet. */
      const signIn = async (
        options: { email?: string; consent?: boolean; start?: Record<string, unknown> } = {},
      ) => {
        const link = await createLink(world);
        const started = await startFlow(world, link.id, options.start ?? {});
        const url = await world.as.login(started.authorizationUrl, {
          email: options.email ?? ALICE,
          ...(options.consent === false ? { consent: false } : {}),
        });
        return { link, started, url };
      };

      /** Completes with `url`, asserts the failed flow, and that no connection appeared. */
      const failsWith = async (flowId: string, url: URL, code: string, cookie?: string | null) => {
        const before = await connectionRows(world);
        const page = await callback(world, url, cookie);
        assert.equal(page.statusCode, 400, page.body);
        assert.match(page.body, /data-status="failed"/);
        assert.equal(pageCode(page.body), code);
        const flow = await getFlow(world, flowId);
        assert.equal(flow.status, 'failed');
        assert.equal(flow.connectionId, undefined);
        assert.equal(flow.error?.code, code);
        assert.ok(flow.error?.message);
        assert.ok(flow.error?.remedy);
        assert.deepEqual(await connectionRows(world), before);
        const failed = (await eventsOf(world, 'connection.authorization_failed')).filter(
          (e) => e.data.flowId === flowId,
        );
        assert.equal(failed.length, 1);
        assert.equal(failed[0]?.data.reason, code);
        return flow;
      };

      it('refuses a replayed callback with 400 authorization_state_invalid', async () => {
        const { started, url } = await signIn();
        const first = await callback(world, url);
        assert.equal(first.statusCode, 200, first.body);
        const before = await connectionRows(world);
        const events = (await eventsOf(world)).length;
        const replay = await callback(world, url);
        assert.equal(replay.statusCode, 400, replay.body);
        assert.equal(pageCode(replay.body), 'authorization_state_invalid');
        assert.match(replay.body, /unknown, expired or already used/);
        assert.deepEqual(await connectionRows(world), before);
        assert.equal((await eventsOf(world)).length, events);
        // The first outcome stands.
        assert.equal((await getFlow(world, started.flowId)).status, 'succeeded');
      });

      it('refuses a forged, unknown or missing state with 400 authorization_state_invalid', async () => {
        const { started, url } = await signIn();
        const before = await connectionRows(world);
        const forged = new URL(url);
        forged.searchParams.set('state', `${url.searchParams.get('state')}x`);
        const missing = new URL(url);
        missing.searchParams.delete('state');
        for (const u of [forged, missing]) {
          const res = await callback(world, u);
          assert.equal(res.statusCode, 400, res.body);
          assert.equal(pageCode(res.body), 'authorization_state_invalid');
        }
        assert.deepEqual(await connectionRows(world), before);
        assert.equal((await getFlow(world, started.flowId)).status, 'pending');
      });

      it('fails a flow completed after 10 minutes with state_expired', async () => {
        const { started, url } = await signIn();
        world.clock.advance(10 * 60_000 + 1);
        const flow = await failsWith(started.flowId, url, 'state_expired');
        assert.equal(flow.error?.message, 'The authorization took longer than 10 minutes.');
      });

      it('accepts a flow completed just inside 10 minutes', async () => {
        const { started, url } = await signIn();
        world.clock.advance(10 * 60_000 - 1_000);
        const page = await callback(world, url);
        assert.equal(page.statusCode, 200, page.body);
        assert.equal((await getFlow(world, started.flowId)).status, 'succeeded');
      });

      it('fails a callback whose iss is not the link’s issuer with iss_mismatch (RFC 9207)', async () => {
        const { started, url } = await signIn();
        assert.equal(url.searchParams.get('iss'), world.as.issuer);
        const wrong = new URL(url);
        wrong.searchParams.set('iss', 'https://attacker.example.test');
        const proxyCalls = world.proxy.count(world.tokenPath);
        await failsWith(started.flowId, wrong, 'iss_mismatch');
        // The code was never sent anywhere.
        assert.equal(world.proxy.count(world.tokenPath), proxyCalls);
      });

      it('records the issuer a link without one first sees, and requires it from then on', async () => {
        const link = await createLink(world, { issuer: undefined });
        const shown = async () =>
          (
            await world.outlink.app.inject({
              method: 'GET',
              url: `/api/v1/links/${link.id}`,
              headers: await world.outlink.adminHeaders(),
            })
          ).json() as { issuer: string | null };
        assert.equal((await shown()).issuer, null);
        await connect(world, link.id, ALICE);
        assert.equal((await shown()).issuer, world.as.issuer);
        const started = await startFlow(world, link.id);
        const url = await world.as.login(started.authorizationUrl, { email: BOB });
        const wrong = new URL(url);
        wrong.searchParams.set('iss', 'https://attacker.example.test');
        await failsWith(started.flowId, wrong, 'iss_mismatch');
        // Once seen, `iss` is required: an answer without it is refused (RFC 9207 §2.4).
        const again = await startFlow(world, link.id);
        const bare = new URL(await world.as.login(again.authorizationUrl, { email: BOB }));
        bare.searchParams.delete('iss');
        const proxyCalls = world.proxy.count(world.tokenPath);
        await failsWith(again.flowId, bare, 'iss_missing');
        assert.equal(world.proxy.count(world.tokenPath), proxyCalls);
      });

      it('fails a callback without iss on a link that has not seen one only if required', async () => {
        const link = await createLink(world, { issuer: undefined });
        const started = await startFlow(world, link.id);
        const url = new URL(await world.as.login(started.authorizationUrl, { email: ALICE }));
        url.searchParams.delete('iss');
        const page = await callback(world, url);
        assert.equal(page.statusCode, 200, page.body);
        assert.equal((await getFlow(world, started.flowId)).status, 'succeeded');
      });

      it('fails a callback without a code with code_missing', async () => {
        const { started, url } = await signIn();
        const without = new URL(url);
        without.searchParams.delete('code');
        await failsWith(started.flowId, without, 'code_missing');
      });

      it('fails a denied consent (error=access_denied) with the provider’s words and a remedy', async () => {
        const { started, url } = await signIn({ consent: false });
        assert.equal(url.searchParams.get('error'), 'access_denied');
        const flow = await failsWith(started.flowId, url, 'access_denied');
        assert.equal(flow.error?.providerError, 'access_denied');
        assert.equal(
          flow.error?.message,
          'The sign-in was cancelled or consent was refused at the provider.',
        );
        assert.equal(
          flow.error?.remedy,
          "Start the authorization again and accept the requested permissions with the mailbox's account.",
        );
        assert.equal(flow.error?.providerDescription, url.searchParams.get('error_description'));
      });

      it('fails a flow bound to a session that is completed without it: session_mismatch', async () => {
        const { started, url } = await signIn();
        await failsWith(started.flowId, url, 'session_mismatch', null);
      });

      it('fails a flow bound to a session that is completed in another session: session_mismatch', async () => {
        const { started, url } = await signIn();
        const login = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
        const other = String(login.headers['set-cookie']).split(';')[0];
        assert.notEqual(other, (await world.outlink.adminHeaders()).cookie);
        await failsWith(started.flowId, url, 'session_mismatch', other);
      });

      it('fails a callback arriving on another link’s redirect URL: callback_suffix_mismatch', async () => {
        const { started, url } = await signIn();
        const elsewhere = new URL(url);
        elsewhere.pathname = `/oauth2/callback/${callbackSuffix('https://accounts.google.com/o/oauth2/v2/auth')}`;
        await failsWith(started.flowId, elsewhere, 'callback_suffix_mismatch');
      });

      it('fails an answer that is not an authorization code response (implicit id_token) with callback_invalid', async () => {
        for (const extra of ['id_token', 'token', 'response']) {
          const { started, url } = await signIn();
          const odd = new URL(url);
          odd.searchParams.set(extra, 'eyJhbGciOiJub25lIn0.e30.');
          const calls = world.proxy.count(world.tokenPath);
          await failsWith(started.flowId, odd, 'callback_invalid');
          assert.equal(world.proxy.count(world.tokenPath), calls);
        }
      });

      it('fails such an answer with callback_invalid on a link without an issuer too', async () => {
        const link = await createLink(world, { issuer: undefined });
        const started = await startFlow(world, link.id);
        const url = await world.as.login(started.authorizationUrl, { email: ALICE });
        const odd = new URL(url);
        odd.searchParams.delete('iss');
        odd.searchParams.set('token', 'abc');
        await failsWith(started.flowId, odd, 'callback_invalid');
      });

      it('fails a flow whose code exchange the token endpoint refuses, with its words', async () => {
        const { started, url } = await signIn();
        world.proxy.queue(oauthError('invalid_grant', 400, 'authorization code is invalid'));
        const flow = await failsWith(started.flowId, url, 'invalid_grant');
        assert.equal(flow.error?.providerError, 'invalid_grant');
        assert.equal(flow.error?.providerDescription, 'authorization code is invalid');
      });

      it('fails a flow whose token endpoint answers 503 with provider_unavailable', async () => {
        const { started, url } = await signIn();
        world.proxy.queue({ kind: 'respond', status: 503, body: 'down for maintenance' });
        await failsWith(started.flowId, url, 'provider_unavailable');
      });

      it('shows the failure page in Japanese for a Japanese browser', async () => {
        const { url } = await signIn({ consent: false });
        const page = await world.outlink.app.inject({
          method: 'GET',
          url: `${url.pathname}${url.search}`,
          headers: {
            cookie: (await world.outlink.adminHeaders()).cookie ?? '',
            'accept-language': 'ja',
          },
        });
        assert.equal(page.statusCode, 400);
        assert.match(page.body, /<html lang="ja">/);
        assert.match(page.body, /認証に失敗しました/);
      });
    });

    it('fails with refresh_token_missing when a Google link is answered without a refresh token', async () => {
      const link = await createLink(world, { scopes: ['openid', 'email'] });
      // A link with Google's preset rules (access_type=offline, refresh token required) whose
      // endpoints are the test server's: the row is edited, since Google's are fixed.
      await world.outlink.services.store.db
        .updateTable('links')
        .set({ provider: 'google' })
        .where('id', '=', link.id)
        .execute();
      const started = await startFlow(world, link.id);
      const q = new URL(started.authorizationUrl).searchParams;
      assert.equal(q.get('access_type'), 'offline');
      assert.equal(q.get('prompt'), 'consent');
      // Without offline_access this server issues no refresh token.
      const url = await world.as.login(started.authorizationUrl, { email: ALICE });
      const before = await connectionRows(world);
      const page = await callback(world, url);
      assert.equal(page.statusCode, 400, page.body);
      assert.equal(pageCode(page.body), 'refresh_token_missing');
      const flow = await getFlow(world, started.flowId);
      assert.equal(flow.status, 'failed');
      assert.equal(flow.error?.code, 'refresh_token_missing');
      assert.equal(
        flow.error?.message,
        'The provider issued no refresh token, so Outlink could not keep this mailbox connected.',
      );
      assert.deepEqual(await connectionRows(world), before);
    });

    it('holds a Microsoft ID token to its own tenant’s issuer: one without a tenant fails id_token_invalid', async () => {
      const link = await createLink(world, { issuer: undefined });
      // Microsoft's preset rules on the test server's endpoints (the row is edited, since
      // Microsoft's are fixed); like Microsoft, the answer carries no `iss`.
      await world.outlink.services.store.db
        .updateTable('links')
        .set({ provider: 'microsoft', tenant: 'common', cloud: 'global' })
        .where('id', '=', link.id)
        .execute();
      const started = await startFlow(world, link.id);
      const url = new URL(await world.as.login(started.authorizationUrl, { email: ALICE }));
      url.searchParams.delete('iss');
      const before = await connectionRows(world);
      const page = await callback(world, url);
      assert.equal(page.statusCode, 400, page.body);
      assert.equal(pageCode(page.body), 'id_token_invalid');
      assert.equal((await getFlow(world, started.flowId)).error?.code, 'id_token_invalid');
      assert.deepEqual(await connectionRows(world), before);
    });

    it('connects a custom link without a refresh token, which needs re-authorization once expired', async () => {
      const link = await createLink(world, { scopes: ['openid', 'email'] });
      const id = await connect(world, link.id, ALICE);
      assert.equal((await storedTokens(world, id)).refreshToken, null);
      const c = await getConnection(world, id);
      assert.ok(c.expiresAt);
      world.clock.set(new Date(Date.parse(c.expiresAt) + 1_000));
      const calls = world.proxy.count(world.tokenPath);
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/connections/${id}/token`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'reauthorization_required');
      assert.equal(world.proxy.count(world.tokenPath), calls);
      const after = await getConnection(world, id);
      assert.equal(after.status, 'reauthorization_required');
      assert.equal(after.lastError?.code, 'refresh_token_missing');
    });

    it('answers 404 flow_not_found for an unknown flow', async () => {
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: '/api/v1/authorizations/00000000-0000-4000-8000-000000000000',
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'flow_not_found');
    });
  });

  describe(`starting an authorization under an http:// base URL on ${dialect}`, () => {
    it('is refused with 409 insecure_base_url and creates no flow', async () => {
      const secure = await startOutlink(dialect);
      let linkId: string;
      try {
        const res = await secure.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers: await secure.adminHeaders(),
          payload: googleLink(),
        });
        assert.equal(res.statusCode, 201, res.body);
        linkId = (res.json() as { id: string }).id;
      } finally {
        await secure.close({ drop: false });
      }
      const insecure = await startOutlink(dialect, {
        database: secure.database,
        env: { OUTLINK_BASE_URL: 'http://outlink.example.test:8080' },
      });
      try {
        const res = await insecure.app.inject({
          method: 'POST',
          url: `/api/v1/links/${linkId}/authorizations`,
          headers: await insecure.adminHeaders(),
          payload: {},
        });
        assert.equal(res.statusCode, 409, res.body);
        assert.equal(res.json().error.code, 'insecure_base_url');
        assert.match(res.json().error.message, /http:\/\/outlink\.example\.test:8080/);
        const flows = await insecure.services.store.db
          .selectFrom('authorization_flows')
          .selectAll()
          .execute();
        assert.deepEqual(flows, []);
      } finally {
        await insecure.close();
      }
    });
  });
}
