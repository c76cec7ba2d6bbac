import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { databaseEnv, runCli, runInProcess, startChild } from '../cli/cli-harness.js';
import { type OutlinkMailWorld, startOutlinkMailWorld } from '../mail/mail-servers-world.js';
import { oauthError } from '../peers/fault-proxy.js';
import { type HttpsPeer, startHttpsPeer } from '../peers/https-server.js';
import { ADMIN_PASSWORD, Dialects, googleLink } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import {
  ALICE,
  authorizeAccount,
  BOB,
  CAROL,
  createTestLink,
  TEST_CLIENT,
} from '../support/worlds.js';

/**
 * Every kind of secret (issue 11, "Tests that prove it"): a link's client secret, access and
 * refresh tokens, a mail password, a webhook secret, an API token and the admin password,
 * against real peers (oidc-provider behind the fault proxy, Dovecot, an HTTPS webhook
 * receiver). Error paths are driven — bad input, a provider answering 500, cutting the
 * connection and answering `invalid_grant`, a mail server refusing the password or not
 * listening, the CLI killed while the provider holds its refresh — and no
 * secret may appear in any answer (except where it is returned once by design), any log line
 * at level trace, the events, the webhook payloads, the admin pages, the CLI's output, or
 * the bytes of the SQLite database and its -wal/-shm files.
 */

/** Every table of the database (src/store/schema.ts). */
const TABLES = [
  'users',
  'sessions',
  'api_tokens',
  'links',
  'connections',
  'events',
  'authorization_flows',
  'leases',
  'webhooks',
  'webhook_deliveries',
  'mail_servers',
  'mail_handler_state',
  'issues',
  'comments',
  'mail_messages',
  'mail_outbox',
] as const;

/** Every spelling of a secret a careless answer or log line might carry. */
function spellings(value: string): string[] {
  const b = Buffer.from(value);
  return [value, b.toString('base64'), b.toString('base64url'), encodeURIComponent(value)];
}

interface Exchange {
  readonly label: string;
  readonly res: LightMyRequestResponse;
  /** Secrets this answer returns by design (an API token at creation, a token route). */
  readonly allowed: readonly string[];
}

for (const dialect of Dialects) {
  describe(`no secret of any kind leaks on ${dialect} (real peers)`, () => {
    let world: OutlinkMailWorld;
    let receiver: HttpsPeer;
    const received: string[] = [];
    const run = randomBytes(6).toString('hex');
    /** name → value of every secret seeded or issued. */
    const secrets = new Map<string, string>();
    const exchanges: Exchange[] = [];
    const pages: { label: string; html: string }[] = [];
    const cliOutputs: { label: string; text: string }[] = [];
    let tokenExchanges = 0;

    const send = async (label: string, options: InjectOptions, allowed: string[] = []) => {
      const headers = { ...(await world.outlink.adminHeaders()), ...options.headers };
      const res = await world.outlink.app.inject({ ...options, headers });
      exchanges.push({ label, res, allowed });
      return res;
    };
    /** Records the connection's current tokens (they rotate with every refresh). */
    const recordTokens = async (name: string, connectionId: string) => {
      const { accessToken, refreshToken } = await world.storedTokens(connectionId);
      secrets.set(`${name} access token ${accessToken.slice(-6)}`, accessToken);
      if (refreshToken)
        secrets.set(`${name} refresh token ${refreshToken.slice(-6)}`, refreshToken);
    };

    before(async () => {
      world = await startOutlinkMailWorld({ dialect, env: { OUTLINK_LOG_LEVEL: 'trace' } });
      receiver = await startHttpsPeer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(`${JSON.stringify(req.headers)}\n${Buffer.concat(chunks).toString()}`);
          res.statusCode = 204;
          res.end();
        });
      });
      const { outlink } = world;
      secrets.set('admin password', ADMIN_PASSWORD);
      secrets.set('test link client secret', TEST_CLIENT.clientSecret);
      const cookie = await outlink.adminHeaders();
      secrets.set('session cookie', cookie.cookie!.split('=')[1]!);

      // A link with a marker secret; the world's link with the real one.
      const linkSecret = `GOCSPX-LINKSECRET-${run}`;
      secrets.set('link client secret', linkSecret);
      const link = await send('create link', {
        method: 'POST',
        url: '/api/v1/links',
        payload: googleLink({ clientSecret: linkSecret }),
      });
      assert.equal(link.statusCode, 201, link.body);

      // An API token, returned once by design.
      const created = await send('create API token', {
        method: 'POST',
        url: '/api/v1/api-tokens',
        payload: { name: `leak ${run}` },
      });
      const apiToken = (created.json() as { token: string }).token;
      secrets.set('API token', apiToken);
      exchanges[exchanges.length - 1] = { ...exchanges.at(-1)!, allowed: [apiToken] };
      const bearer = { authorization: `Bearer ${apiToken}` };

      // A webhook, its signing secret returned once by design.
      const hook = await send('create webhook', {
        method: 'POST',
        url: '/api/v1/webhooks',
        payload: { url: `${receiver.origin}/hooks` },
      });
      assert.equal(hook.statusCode, 201, hook.body);
      const hookSecret = (hook.json() as { secret: string }).secret;
      secrets.set('webhook secret', hookSecret);
      exchanges[exchanges.length - 1] = { ...exchanges.at(-1)!, allowed: [hookSecret] };

      // Mail servers with a marker password: one refusing it (Dovecot), one not listening.
      const mailPassword = `MAILPASSWORD-${run}`;
      secrets.set('mail password', mailPassword);
      const wrong = await world.createServer({
        name: 'Wrong password',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps,
        username: CAROL,
        authentication: { method: 'password', password: mailPassword },
      });
      const closed = await world.createServer({
        name: 'Not listening',
        protocol: 'pop3',
        host: '127.0.0.1',
        port: await closedPort(),
        username: CAROL,
        authentication: { method: 'password', password: mailPassword },
      });
      const oauthImap = await world.createServer({
        name: 'OAuth inbox',
        protocol: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.ports.imaps,
        username: ALICE,
        authentication: { method: 'oauth2', connectionId: world.alice },
      });
      await recordTokens('alice', world.alice);
      await recordTokens('bob', world.bob);

      // A connection whose token requests go through the fault proxy.
      const proxied = await createTestLink(outlink, world);
      const carolConnection = await authorizeAccount(outlink, world, proxied, ALICE);
      await recordTokens('proxied', carolConnection);

      // Bad input carrying secrets.
      const bad: [string, InjectOptions][] = [
        [
          'secret of wrong type',
          {
            method: 'POST',
            url: '/api/v1/links',
            payload: googleLink({ clientSecret: [linkSecret] }),
          },
        ],
        [
          'secret too long',
          {
            method: 'PATCH',
            url: `/api/v1/links/${proxied}`,
            payload: { clientSecret: `${linkSecret}${'x'.repeat(5000)}` },
          },
        ],
        [
          'mail password beside an unknown field',
          {
            method: 'PATCH',
            url: `/api/v1/mail-servers/${wrong.id}`,
            payload: { authentication: { method: 'password', password: mailPassword, x: 1 } },
          },
        ],
        [
          'mail password of wrong type',
          {
            method: 'POST',
            url: '/api/v1/mail-servers',
            payload: {
              name: 'x',
              protocol: 'imap',
              host: '127.0.0.1',
              username: CAROL,
              authentication: { method: 'password', password: [mailPassword] },
            },
          },
        ],
        [
          'malformed JSON with a password',
          {
            method: 'PATCH',
            url: `/api/v1/mail-servers/${wrong.id}`,
            headers: { 'content-type': 'application/json' },
            payload: `{"authentication":{"method":"password","password":"${mailPassword}"`,
          },
        ],
        [
          'login with the API token as password',
          {
            method: 'POST',
            url: '/api/v1/session',
            headers: { cookie: '' },
            payload: { username: 'admin', password: apiToken },
          },
        ],
        [
          'a token as an unknown query value',
          { method: 'GET', url: `/api/v1/links?cursor=${encodeURIComponent(apiToken)}` },
        ],
        [
          'a refresh token as a rejected token',
          {
            method: 'GET',
            url: `/api/v1/connections/${world.alice}/token`,
            headers: { 'x-rejected-token': 'y'.repeat(9000) },
          },
        ],
      ];
      for (const [label, options] of bad) {
        const res = await send(label, options);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: ${res.body}`);
      }

      // Provider failures on refresh: 500, invalid_client, a cut connection, then success.
      const { proxy } = world;
      for (const [label, fault] of [
        ['provider 500', { kind: 'respond', status: 500, body: 'upstream broke' }],
        ['provider cut', { kind: 'reset' }],
        ['provider invalid_grant', oauthError('invalid_grant', 400, 'Token has been revoked')],
      ] as const) {
        proxy.always(fault);
        await send(label, {
          method: 'POST',
          url: `/api/v1/connections/${carolConnection}/refresh`,
        });
        proxy.always({ kind: 'pass' });
      }
      // The token route, forced to refresh by a rejected token: new tokens, returned by design.
      for (const id of [world.alice, world.bob]) {
        const { accessToken } = await world.storedTokens(id);
        const res = await world.outlink.app.inject({
          method: 'GET',
          url: `/api/v1/connections/${id}/token`,
          headers: { ...bearer, 'x-rejected-token': accessToken },
        });
        tokenExchanges++;
        const fresh = (res.json() as { accessToken: string }).accessToken;
        exchanges.push({ label: 'token route', res, allowed: [accessToken, fresh] });
        await recordTokens('refreshed', id);
      }
      await send('refresh', { method: 'POST', url: `/api/v1/connections/${world.alice}/refresh` });
      await recordTokens('alice after refresh', world.alice);

      // Mail failures and a working OAuth login.
      for (const server of [wrong, closed, oauthImap]) {
        await send(`mail test ${server.name}`, {
          method: 'POST',
          url: `/api/v1/mail-servers/${server.id}/test`,
          payload: {},
        });
      }
      // Webhooks: the refresh failures above are delivered now.
      await deliverWebhooks(world);

      // Diagnose (issue 13): every check, the mail server's login with a real token included.
      for (const id of [world.linkId, proxied]) {
        const res = await send(`diagnose ${id}`, {
          method: 'POST',
          url: `/api/v1/links/${id}/diagnose`,
        });
        assert.equal(res.statusCode, 200, res.body);
      }

      // Every admin page.
      for (const url of [
        '/admin/applinks',
        `/admin/applinks/${world.linkId}`,
        `/admin/applinks/${proxied}`,
        '/admin/mail-servers',
        '/admin/events',
        '/admin/api-tokens',
        '/admin/account',
      ]) {
        const res = await send(`page ${url}`, { method: 'GET', url });
        pages.push({ label: url, html: res.body });
      }

      // The CLI: in process for most commands, one spawned run through the entry point.
      const env = databaseEnv(outlink.database, { OUTLINK_LOG_LEVEL: 'trace' });
      for (const args of [
        ['links', 'list'],
        ['links', 'show', world.linkId, '--json'],
        ['connections', 'list', '--json'],
        ['connections', 'show', world.alice],
        ['mail', 'test', wrong.name],
        ['mail', 'test', closed.name],
        ['mail', 'show', wrong.name, '--json'],
        ['connections', 'refresh', carolConnection],
        ['doctor', world.linkId, '--json'],
        ['doctor', proxied],
      ]) {
        const r = await runInProcess(args, {
          env,
          fetch: world.as.fetch,
          mailTls: { ca: world.tls.caPem },
        });
        cliOutputs.push({ label: args.join(' '), text: `${r.stdout}\n${r.stderr}` });
      }
      const spawned = await runCli(['mail', 'show', wrong.name], { env });
      cliOutputs.push({ label: 'spawned mail show', text: `${spawned.stdout}\n${spawned.stderr}` });
      // A crash mid-request: the CLI killed while the provider holds its refresh.
      const crashed = await authorizeAccount(outlink, world, proxied, BOB);
      await recordTokens('before the crash', crashed);
      const caFile = join(outlink.database.dataDir, 'test-ca.pem');
      writeFileSync(caFile, world.as.caPem);
      const tokenPath = new URL(world.tokenEndpoint).pathname;
      const before = proxy.count(tokenPath);
      proxy.always({ kind: 'hang' });
      const child = startChild(['connections', 'refresh', crashed], {
        env: { ...env, NODE_EXTRA_CA_CERTS: caFile },
      });
      try {
        // Generous: the child compiles the sources with tsx first, slow on a loaded machine.
        const deadline = Date.now() + 90_000;
        while (proxy.count(tokenPath) === before && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(proxy.count(tokenPath), before + 1, 'the CLI never reached the provider');
      } finally {
        child.kill();
        proxy.always({ kind: 'pass' });
      }
      const killed = await child.done;
      assert.equal(killed.code, null, 'killed, not finished');
      cliOutputs.push({ label: 'killed mid-refresh', text: `${killed.stdout}\n${killed.stderr}` });
      await recordTokens('proxied after CLI', carolConnection);
      await recordTokens('alice at the end', world.alice);
      await recordTokens('bob at the end', world.bob);
    });
    after(async () => {
      await receiver?.close();
      await world?.close();
    });

    /** The secrets that must never appear where `where` says, with the exceptions allowed. */
    const leaks = (text: string, allowed: readonly string[] = []) => {
      const found: string[] = [];
      for (const [name, value] of secrets) {
        if (allowed.includes(value)) continue;
        if (spellings(value).some((s) => text.includes(s))) found.push(name);
      }
      return found;
    };

    it('drove the error paths it meant to', () => {
      const labels = exchanges.map((e) => `${e.label} ${e.res.statusCode}`);
      for (const expected of [
        /^provider 500 (200|50[23])$/,
        /^provider invalid_grant 409$/,
        /^provider cut (200|50[23])$/,
        /^mail test Wrong password 200$/,
        /^mail test Not listening 200$/,
      ]) {
        assert.ok(
          labels.some((l) => expected.test(l)),
          `${expected} not in\n${labels.join('\n')}`,
        );
      }
      assert.equal(tokenExchanges, 2);
      assert.ok(received.length > 0, 'the webhook receiver heard nothing');
      assert.ok(secrets.size >= 12, [...secrets.keys()].join(', '));
    });

    it('answers no secret, except where one is returned once by design', () => {
      for (const { label, res, allowed } of exchanges) {
        const text = `${JSON.stringify(res.headers)}\n${res.body}`;
        assert.deepEqual(leaks(text, allowed), [], `${label}: ${text.slice(0, 500)}`);
      }
    });

    it('logs no secret at any level, trace included', () => {
      const lines = world.outlink.logLines;
      assert.equal(world.outlink.services.log.level, 'trace');
      assert.ok(lines.length > exchanges.length, `only ${lines.length} log lines`);
      // Query values in request lines are the next test's.
      for (const line of lines) assert.deepEqual(leaks(withoutQueryValues(line)), [], line);
    });

    it('logs no secret sent as a query value', () => {
      for (const line of world.outlink.logLines) assert.deepEqual(leaks(line), [], line);
    });

    it('records no secret in the events', async () => {
      const rows = await world.outlink.services.store.db.selectFrom('events').selectAll().execute();
      assert.ok(rows.length > 5);
      for (const row of rows) assert.deepEqual(leaks(JSON.stringify(row)), [], JSON.stringify(row));
    });

    it('sends no secret in a webhook payload', () => {
      for (const message of received) assert.deepEqual(leaks(message), [], message);
    });

    it('shows no secret on any admin page', () => {
      for (const { label, html } of pages) assert.deepEqual(leaks(html), [], label);
    });

    it('prints no secret from the CLI', () => {
      for (const { label, text } of cliOutputs)
        assert.deepEqual(leaks(text), [], `${label}: ${text}`);
    });

    it('stores no secret in clear in any table, on either dialect', async () => {
      const { db } = world.outlink.services.store;
      for (const table of TABLES) {
        const rows = await db.selectFrom(table).selectAll().execute();
        for (const row of rows) {
          const text = JSON.stringify(row, (_k, v: unknown) =>
            Buffer.isBuffer(v) ? v.toString('latin1') : v,
          );
          assert.deepEqual(leaks(text), [], `${table}: ${text.slice(0, 300)}`);
        }
      }
    });

    // PostgreSQL's files are the server's own; SQLite's are Outlink's, and read here.
    // On PostgreSQL the database files belong to the server; the tables are read above.
    if (dialect === 'sqlite')
      it('stores every secret encrypted: not in the database, WAL or shared-memory bytes', () => {
        const dir = world.outlink.database.dataDir;
        const files = readdirSync(dir).filter((f) => f.startsWith('outlink.db'));
        assert.ok(files.includes('outlink.db'), files.join());
        for (const file of files) {
          const bytes = readFileSync(join(dir, file));
          for (const [name, value] of secrets) {
            for (const s of spellings(value)) {
              assert.equal(bytes.includes(Buffer.from(s)), false, `${file} holds the ${name}`);
            }
          }
        }
      });
  });
}

/** A log line with the values of every query string in it cut off (`?cursor=…` → `?`). */
function withoutQueryValues(line: string): string {
  return line.replace(/\?[^"\s]*/g, '?');
}

/**
 * One delivery pass: the webhook dispatcher's where webhooks have their own loop, else the
 * scheduler's tick, which delivers them too.
 */
async function deliverWebhooks(world: OutlinkMailWorld): Promise<void> {
  const services = world.outlink.services as unknown as {
    webhookDispatcher?: { tick(): Promise<unknown> };
    scheduler: { tick(): Promise<unknown> };
  };
  await (services.webhookDispatcher ?? services.scheduler).tick();
}
