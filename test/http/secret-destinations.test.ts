import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dialects } from '../support/harness.js';
import {
  ALICE,
  type AuthorizedWorld,
  authorizeAccount,
  startAuthorizedWorld,
  TEST_CLIENT,
} from '../support/worlds.js';

/**
 * Issue 11 (Medium 2): a write-only secret goes only where it went before. Moving a link's
 * token or authorization endpoint (or its issuer) to another origin needs the client secret
 * again and discards the connections' tokens unsent; moving a mail server (host, port) or
 * dropping its TLS needs its password again. Against the real oidc-provider: the "other
 * origin" is the fault proxy in front of it, which counts every request it is sent.
 */
for (const dialect of Dialects) {
  describe(`secret destinations (${dialect})`, () => {
    let world: AuthorizedWorld;
    const call = async (
      method: 'GET' | 'POST' | 'PATCH',
      url: string,
      payload?: unknown,
      lang?: string,
    ) =>
      world.outlink.app.inject({
        method,
        url,
        headers: {
          ...(await world.outlink.adminHeaders()),
          ...(lang ? { 'accept-language': lang } : {}),
        },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
    const link = async () =>
      (await call('GET', `/api/v1/links/${world.linkId}`)).json() as {
        tokenEndpoint: string;
        authorizationEndpoint: string;
        connections: { id: string; account: string; status: string }[];
      };

    before(async () => {
      world = await startAuthorizedWorld(dialect);
    });
    after(() => world?.close());

    it('refuses to send the stored client secret to a new token endpoint', async () => {
      const moved = world.proxy.via(world.as.endpoints.token);
      const origin = new URL(moved).origin;
      const en = await call('PATCH', `/api/v1/links/${world.linkId}`, { tokenEndpoint: moved });
      assert.equal(en.statusCode, 422, en.body);
      assert.deepEqual(en.json(), {
        error: {
          code: 'client_secret_required',
          message: `The new endpoints are on another server (${origin}): Outlink does not send the stored client secret there.`,
          remedy:
            "Enter the client secret again with the new endpoints. The link's connections must then be authorized again.",
          field: 'clientSecret',
        },
      });
      const ja = await call(
        'PATCH',
        `/api/v1/links/${world.linkId}`,
        { tokenEndpoint: moved },
        'ja',
      );
      assert.equal(ja.statusCode, 422);
      const jaError = (ja.json() as { error: { code: string; message: string; remedy: string } })
        .error;
      assert.equal(jaError.code, 'client_secret_required');
      assert.match(jaError.message, /別のサーバー/);
      assert.match(jaError.remedy, /再入力/);
      // Nothing changed, nothing sent: the connections are as they were.
      const now = await link();
      assert.equal(now.tokenEndpoint, world.as.endpoints.token);
      assert.ok(now.connections.every((c) => c.status === 'valid'));
      assert.equal(world.proxy.count(world.tokenPath), 0);
    });

    it('refuses a new authorization endpoint or issuer on another origin too', async () => {
      const otherAuth = world.proxy.via(world.as.endpoints.authorization);
      const res = await call('PATCH', `/api/v1/links/${world.linkId}`, {
        authorizationEndpoint: otherAuth,
      });
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(
        (res.json() as { error: { code: string } }).error.code,
        'client_secret_required',
      );
      const issuer = await call('PATCH', `/api/v1/links/${world.linkId}`, {
        issuer: world.proxy.origin,
        authorizationEndpoint: world.as.endpoints.authorization,
        tokenEndpoint: world.as.endpoints.token,
      });
      assert.equal(issuer.statusCode, 422, issuer.body);
      assert.equal(
        (issuer.json() as { error: { code: string } }).error.code,
        'client_secret_required',
      );
      // Settings that send nothing elsewhere need no secret.
      const renamed = await call('PATCH', `/api/v1/links/${world.linkId}`, {
        description: 'still the same provider',
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
    });

    it('with the secret given again, discards the tokens: they never reach the new server', async () => {
      const moved = world.proxy.via(world.as.endpoints.token);
      const res = await call('PATCH', `/api/v1/links/${world.linkId}`, {
        tokenEndpoint: moved,
        clientSecret: TEST_CLIENT.clientSecret,
      });
      assert.equal(res.statusCode, 200, res.body);
      const now = await link();
      assert.equal(now.connections.length, 2);
      for (const c of now.connections) {
        assert.equal(c.status, 'reauthorization_required');
        const detail = (await call('GET', `/api/v1/connections/${c.id}`)).json() as {
          lastError?: { code: string; scope: string };
        };
        assert.equal(detail.lastError?.code, 'endpoint_moved');
        assert.equal(detail.lastError?.scope, 'connection');
      }
      const rows = await world.outlink.services.store.db
        .selectFrom('connections')
        .select(['access_token_enc', 'refresh_token_enc'])
        .where('link_id', '=', world.linkId)
        .execute();
      assert.ok(rows.every((r) => r.access_token_enc === null && r.refresh_token_enc === null));
      const events = await world.outlink.services.store.db
        .selectFrom('events')
        .select(['data'])
        .where('type', '=', 'connection.reauthorization_required')
        .where('link_id', '=', world.linkId)
        .execute();
      assert.equal(events.length, 2);
      assert.ok(
        events.every((e) => (JSON.parse(e.data) as { reason: string }).reason === 'endpoint_moved'),
      );

      // Neither a token request nor an explicit refresh sends an old token to the new server.
      const alice = now.connections.find((c) => c.account === ALICE)!;
      const token = await call('GET', `/api/v1/connections/${alice.id}/token`);
      assert.equal(token.statusCode, 409, token.body);
      assert.equal(
        (token.json() as { error: { code: string } }).error.code,
        'reauthorization_required',
      );
      const refresh = await call('POST', `/api/v1/connections/${alice.id}/refresh`);
      assert.equal(refresh.statusCode, 409, refresh.body);
      assert.equal(world.proxy.count(world.tokenPath), 0);

      // Authorizing again goes to the new token endpoint and brings the connection back.
      const again = await authorizeAccount(world.outlink, world, world.linkId, ALICE);
      assert.equal(again, alice.id);
      assert.ok(world.proxy.count(world.tokenPath) > 0);
      const after = (await call('GET', `/api/v1/connections/${alice.id}`)).json() as {
        status: string;
      };
      assert.equal(after.status, 'valid');
    });

    it('asks for a mail server password again when the server moves or drops TLS', async () => {
      const password = 'carols stored mail password';
      const created = await call('POST', '/api/v1/mail-servers', {
        name: `Password mailbox ${dialect}`,
        protocol: 'imap',
        host: 'mail.example.test',
        username: 'carol@example.test',
        authentication: { method: 'password', password },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = (created.json() as { id: string }).id;
      const url = `/api/v1/mail-servers/${id}`;
      for (const change of [{ host: 'mail.attacker.test' }, { port: 1993 }, { security: 'none' }]) {
        const res = await call('PATCH', url, change);
        assert.equal(res.statusCode, 422, `${JSON.stringify(change)}: ${res.body}`);
        const error = (res.json() as { error: { code: string; message: string; field: string } })
          .error;
        assert.equal(error.code, 'mail_password_required');
        assert.equal(error.field, 'authentication.password');
        assert.match(error.message, /does not send the stored password there/);
      }
      const ja = await call('PATCH', url, { host: 'mail.attacker.test' }, 'ja');
      assert.match((ja.json() as { error: { message: string } }).error.message, /パスワード/);
      const server = (await call('GET', url)).json() as { host: string; security: string };
      assert.deepEqual([server.host, server.security], ['mail.example.test', 'tls']);

      // Other settings keep the stored password; a new host with the password is fine.
      assert.equal((await call('PATCH', url, { folder: 'Support' })).statusCode, 200);
      const moved = await call('PATCH', url, {
        host: 'mail2.example.test',
        authentication: { method: 'password', password: 'a new password' },
      });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal((moved.json() as { host: string }).host, 'mail2.example.test');
    });
  });
}
