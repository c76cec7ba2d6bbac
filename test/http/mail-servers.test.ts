import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import { Dialects } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import { ALICE, authorizeAccount, BOB, CAROL, TEST_CLIENT } from '../support/worlds.js';

/**
 * The mail server API (DESIGN §8): CRUD with defaults and warnings, the connection a mailbox
 * uses (its own, or a delegate's), write-only passwords, the presets, links and connections
 * that cannot be deleted while mail servers use them, and every bad input answered with an
 * exact code without touching the database.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const MISSING = Symbol('missing');

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface ErrorJson {
  error: { code: string; message: string; remedy?: string; field?: string };
}

/** Every table a mail server request could write to, rows sorted for exact comparison. */
const TABLES = ['mail_servers', 'links', 'connections', 'events'] as const;

for (const dialect of Dialects) {
  describe(`mail server API on ${dialect}`, () => {
    let world: OutlinkMailWorld;
    let googleLinkId: string;
    let counter = 0;
    const name = () => `Mailbox ${dialect} ${++counter}`;

    const call = (method: Method, url: string, payload?: unknown) =>
      world.api(method, url, payload);
    const errorOf = (res: LightMyRequestResponse) => (res.json() as ErrorJson).error;
    const snapshot = async () => {
      const out: Record<string, string[]> = {};
      for (const table of TABLES) {
        const rows = await world.outlink.services.store.db.selectFrom(table).selectAll().execute();
        out[table] = rows.map((r) => JSON.stringify(r)).sort();
      }
      return out;
    };
    const imapBody = (overrides: Record<string, unknown> = {}) => ({
      name: name(),
      protocol: 'imap',
      host: 'mail.example.test',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
      ...overrides,
    });
    const withoutTimes = (s: MailServerJson) => {
      const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = s;
      return rest;
    };

    before(async () => {
      world = await startOutlinkMailWorld({ dialect });
      const google = await call('POST', '/api/v1/links', {
        name: `Google ${dialect}`,
        provider: 'google',
        clientId: '123-abc.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-test-secret',
      });
      assert.equal(google.statusCode, 201, google.body);
      googleLinkId = (google.json() as { id: string }).id;
    });
    after(() => world?.close());

    describe('create', () => {
      it("uses the link's connection of the username, with the defaults of IMAP over TLS", async () => {
        const body = imapBody({ authentication: { method: 'oauth2', linkId: world.linkId } });
        const created = await world.createServer(body);
        assert.deepEqual(withoutTimes(created), {
          name: body.name,
          protocol: 'imap',
          host: 'mail.example.test',
          port: 993,
          security: 'tls',
          username: ALICE,
          authentication: {
            method: 'oauth2',
            linkId: world.linkId,
            linkName: 'Test mail AS',
            connectionId: world.alice,
            account: ALICE,
            delegated: false,
          },
          saslMechanism: null,
          folder: 'INBOX',
          pollIntervalSeconds: 300,
          processedAction: 'seen',
          processedFolder: null,
          handlerEnabled: false,
          issueKeyPrefix: 'MAIL',
          defaultReporter: null,
          maxMessageBytes: 26_214_400,
          acknowledgeWith: null,
          acknowledgeWithName: null,
          errorFolder: null,
          preset: null,
          warnings: [],
        });
        assert.equal(created.createdAt, created.updatedAt);
        const fetched = await call('GET', `/api/v1/mail-servers/${created.id}`);
        assert.equal(fetched.statusCode, 200);
        const { warnings: _, ...stored } = created;
        assert.deepEqual(fetched.json(), stored);
      });

      it('derives the port from the security and the security from the port, never "none"', async () => {
        const cases = [
          [{ protocol: 'imap', port: 143 }, 143, 'starttls'],
          [{ protocol: 'imap', port: 10993 }, 10993, 'tls'],
          [{ protocol: 'pop3' }, 995, 'tls'],
          [{ protocol: 'pop3', security: 'starttls' }, 110, 'starttls'],
          [{ protocol: 'smtp' }, 465, 'tls'],
          [{ protocol: 'smtp', security: 'starttls' }, 587, 'starttls'],
          [{ protocol: 'smtp', port: 25 }, 25, 'starttls'],
        ] as const;
        for (const [fields, port, security] of cases) {
          const created = await world.createServer(imapBody({ ...fields }));
          assert.deepEqual(
            { port: created.port, security: created.security },
            { port, security },
            JSON.stringify(fields),
          );
          assert.equal(created.folder, fields.protocol === 'imap' ? 'INBOX' : null);
          assert.equal(created.pollIntervalSeconds, fields.protocol === 'smtp' ? null : 300);
          assert.equal(created.processedAction, fields.protocol === 'smtp' ? null : 'seen');
        }
      });

      it("shows a delegate's connection and warns; a plain connection is a warning too", async () => {
        const created = await world.createServer(
          imapBody({
            protocol: 'pop3',
            security: 'none',
            port: 110,
            authentication: { method: 'oauth2', connectionId: world.bob },
          }),
        );
        assert.deepEqual(created.authentication, {
          method: 'oauth2',
          linkId: world.linkId,
          linkName: 'Test mail AS',
          connectionId: world.bob,
          account: BOB,
          delegated: true,
        });
        assert.deepEqual(created.warnings, [
          {
            code: 'plain_connection',
            message:
              'The connection to mail.example.test:110 is not encrypted (security: none): passwords, tokens and mail cross the network in clear text. Use tls or starttls unless the server is on a trusted network.',
          },
          {
            code: 'delegated_mailbox',
            message: `The token of ${BOB} is used for the mailbox ${ALICE}: ${BOB} needs full access to that mailbox (a delegate of a shared mailbox), or the server refuses the token.`,
          },
        ]);
      });

      it('refuses a link without a connection for the username, naming its accounts', async () => {
        const before = await snapshot();
        const res = await call(
          'POST',
          '/api/v1/mail-servers',
          imapBody({ username: CAROL, authentication: { method: 'oauth2', linkId: world.linkId } }),
        );
        assert.equal(res.statusCode, 409);
        assert.deepEqual(errorOf(res), {
          code: 'mailbox_not_authorized',
          message: `The link "Test mail AS" has no connection for the mailbox ${CAROL} (its accounts: ${ALICE}, ${BOB}).`,
          remedy: `Authorize ${CAROL} with the link, or choose a connection explicitly (a delegate with full access to the mailbox).`,
          field: 'authentication',
        });
        assert.deepEqual(await snapshot(), before);
      });

      it('keeps a password write-only and encrypted', async () => {
        const password = 'correct horse battery staple 42';
        const created = await world.createServer(
          imapBody({ username: CAROL, authentication: { method: 'password', password } }),
        );
        assert.deepEqual(created.authentication, { method: 'password', passwordSet: true });
        const listed = await call('GET', '/api/v1/mail-servers?limit=200');
        const fetched = await call('GET', `/api/v1/mail-servers/${created.id}`);
        for (const res of [listed, fetched]) assert.ok(!res.body.includes(password));
        const row = await world.outlink.services.store.db
          .selectFrom('mail_servers')
          .selectAll()
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow();
        assert.ok(row.password_enc && !row.password_enc.includes(password));
        assert.equal(
          world.outlink.services.cipher.decrypt(
            row.password_enc,
            `mail_servers.password:${created.id}`,
          ),
          password,
        );
        assert.equal(row.connection_id, null);
        const runtime = await world.outlink.services.mailServers.runtime(created.id);
        assert.deepEqual(runtime.credentials, { method: 'password', password });
        // The start-up check reads every secret column, this one included.
        await world.outlink.services.keys.verify();
      });

      it('names the preset of a known host, and warns when the link is of another provider', async () => {
        const created = await world.createServer(imapBody({ host: 'IMAP.gmail.com' }));
        assert.equal(created.host, 'imap.gmail.com');
        assert.equal(created.preset, 'gmail');
        assert.deepEqual(created.warnings, [
          {
            code: 'preset_provider_mismatch',
            message:
              "imap.gmail.com is a Gmail server, but the connection's link is a custom link: Gmail accepts only tokens from its own provider.",
          },
        ]);
      });

      it("warns when the connection lacks the scope the provider's preset needs", async () => {
        const connectionId = randomUUID();
        const now = new Date().toISOString();
        await world.outlink.services.store.db
          .insertInto('connections')
          .values({
            id: connectionId,
            link_id: googleLinkId,
            account: ALICE,
            status: 'valid',
            access_token_enc: null,
            refresh_token_enc: null,
            token_type: null,
            expires_at: null,
            scopes: JSON.stringify(['openid', 'email']),
            last_refreshed_at: null,
            last_error: null,
            created_at: now,
            updated_at: now,
            issuer: null,
            retry_at: null,
          })
          .execute();
        const created = await world.createServer(
          imapBody({
            host: 'imap.gmail.com',
            authentication: { method: 'oauth2', linkId: googleLinkId },
          }),
        );
        assert.deepEqual(created.warnings, [
          {
            code: 'mail_scope_missing',
            message: `The connection of ${ALICE} was not granted the scope https://mail.google.com/, which IMAP needs: add the scope to the link and authorize ${ALICE} again.`,
          },
        ]);
        const runtime = await world.outlink.services.mailServers.runtime(created.id);
        assert.deepEqual(runtime.credentials, {
          method: 'oauth2',
          connectionId,
          account: ALICE,
          provider: 'google',
          grantedScopes: ['openid', 'email'],
          neededScopes: ['https://mail.google.com/'],
        });
        assert.equal((await call('DELETE', `/api/v1/mail-servers/${created.id}`)).statusCode, 204);
      });

      it('says what the IMAP mechanism override cannot do with imapflow', async () => {
        const created = await world.createServer(imapBody({ saslMechanism: 'XOAUTH2' }));
        assert.equal(created.saslMechanism, 'XOAUTH2');
        assert.deepEqual(created.warnings, [
          {
            code: 'imap_mechanism_not_enforced',
            message:
              'IMAP logs in through imapflow, which always uses OAUTHBEARER when the server offers it: the XOAUTH2 override takes effect only on servers that offer XOAUTH2 alone.',
          },
        ]);
      });

      it('refuses a duplicate name, whatever its case', async () => {
        const first = await world.createServer(imapBody());
        const before = await snapshot();
        const res = await call(
          'POST',
          '/api/v1/mail-servers',
          imapBody({ name: ` ${first.name.toUpperCase()} ` }),
        );
        assert.equal(res.statusCode, 409);
        assert.deepEqual(errorOf(res), {
          code: 'mail_server_name_taken',
          message: `A mail server named "${first.name.toUpperCase()}" already exists.`,
          remedy: 'Choose another name, or edit the existing mail server.',
          field: 'name',
        });
        assert.deepEqual(await snapshot(), before);
      });
    });

    describe('list, update, delete', () => {
      it('lists by name, a page at a time', async () => {
        const all = (await call('GET', '/api/v1/mail-servers?limit=200')).json() as {
          items: MailServerJson[];
        };
        assert.ok(all.items.length >= 3);
        const sorted = [...all.items].sort((a, b) =>
          a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1,
        );
        assert.deepEqual(
          all.items.map((s) => s.id),
          sorted.map((s) => s.id),
        );
        const first = (await call('GET', '/api/v1/mail-servers?limit=2')).json() as {
          items: MailServerJson[];
          nextCursor: string;
        };
        assert.deepEqual(
          first.items.map((s) => s.id),
          all.items.slice(0, 2).map((s) => s.id),
        );
        const second = (
          await call('GET', `/api/v1/mail-servers?limit=2&cursor=${first.nextCursor}`)
        ).json() as { items: MailServerJson[] };
        assert.deepEqual(
          second.items.map((s) => s.id),
          all.items.slice(2, 4).map((s) => s.id),
        );
      });

      it('updates fields, keeps the others, and records the change', async () => {
        const created = await world.createServer(imapBody());
        const res = await call('PATCH', `/api/v1/mail-servers/${created.id}`, {
          port: 1993,
          folder: 'Support',
          processedAction: 'move',
          processedFolder: 'Support/Done',
        });
        assert.equal(res.statusCode, 200, res.body);
        const updated = res.json() as MailServerJson;
        assert.deepEqual(
          { ...withoutTimes(updated), warnings: updated.warnings },
          {
            ...withoutTimes(created),
            port: 1993,
            folder: 'Support',
            processedAction: 'move',
            processedFolder: 'Support/Done',
            warnings: [],
          },
        );
        const events = await world.outlink.services.store.db
          .selectFrom('events')
          .select(['type', 'mail_server_id', 'link_id', 'connection_id', 'data'])
          .where('mail_server_id', '=', created.id)
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          events.map((e) => ({ ...e, data: JSON.parse(e.data) as unknown })),
          [
            {
              type: 'mail_server.created',
              mail_server_id: created.id,
              link_id: world.linkId,
              connection_id: world.alice,
              data: { name: created.name, protocol: 'imap', host: 'mail.example.test' },
            },
            {
              type: 'mail_server.updated',
              mail_server_id: created.id,
              link_id: world.linkId,
              connection_id: world.alice,
              data: {
                name: created.name,
                changed: ['port', 'folder', 'processedAction', 'processedFolder'],
              },
            },
          ],
        );
      });

      it('switches to a password and back, keeping the password when it is not repeated', async () => {
        const created = await world.createServer(imapBody());
        const id = created.id;
        const noPassword = await call('PATCH', `/api/v1/mail-servers/${id}`, {
          authentication: { method: 'password' },
        });
        assert.equal(noPassword.statusCode, 422);
        assert.equal(errorOf(noPassword).code, 'field_required');
        assert.equal(errorOf(noPassword).field, 'authentication.password');
        const toPassword = await call('PATCH', `/api/v1/mail-servers/${id}`, {
          authentication: { method: 'password', password: 'first' },
        });
        assert.deepEqual((toPassword.json() as MailServerJson).authentication, {
          method: 'password',
          passwordSet: true,
        });
        const rename = await call('PATCH', `/api/v1/mail-servers/${id}`, {
          name: `${created.name} renamed`,
          authentication: { method: 'password' },
        });
        assert.equal(rename.statusCode, 200, rename.body);
        const runtime = await world.outlink.services.mailServers.runtime(id);
        assert.deepEqual(runtime.credentials, { method: 'password', password: 'first' });
        const back = await call('PATCH', `/api/v1/mail-servers/${id}`, {
          authentication: { method: 'oauth2', connectionId: world.bob },
        });
        assert.equal((back.json() as MailServerJson).authentication.delegated, true);
        const row = await world.outlink.services.store.db
          .selectFrom('mail_servers')
          .select(['password_enc', 'connection_id'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, { password_enc: null, connection_id: world.bob });
      });

      it('deletes, records it, and then knows it no more', async () => {
        const created = await world.createServer(imapBody());
        const res = await call('DELETE', `/api/v1/mail-servers/${created.id}`);
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, '');
        const gone = await call('GET', `/api/v1/mail-servers/${created.id}`);
        assert.equal(gone.statusCode, 404);
        assert.deepEqual(errorOf(gone), {
          code: 'mail_server_not_found',
          message: `There is no mail server ${created.id}.`,
          remedy: 'List the mail servers with GET /api/v1/mail-servers.',
        });
        const deleted = await world.outlink.services.store.db
          .selectFrom('events')
          .select(['data'])
          .where('mail_server_id', '=', created.id)
          .where('type', '=', 'mail_server.deleted')
          .execute();
        assert.deepEqual(
          deleted.map((e) => JSON.parse(e.data) as unknown),
          [{ name: created.name, protocol: 'imap' }],
        );
      });
    });

    describe('presets', () => {
      it('all of them, or those of a link’s provider', async () => {
        const all = await call('GET', '/api/v1/mail-server-presets');
        assert.equal(all.statusCode, 200);
        const items = (all.json() as { items: { id: string; scopes: unknown }[] }).items;
        assert.deepEqual(
          items.map((p) => p.id),
          ['gmail', 'exchange_online', 'exchange_online_us', 'exchange_online_china'],
        );
        // A national cloud's preset shows its own cloud's scopes when listed without a link.
        assert.deepEqual(items[2]?.scopes, {
          imap: ['https://outlook.office365.us/IMAP.AccessAsUser.All'],
          pop3: ['https://outlook.office365.us/POP.AccessAsUser.All'],
          smtp: ['https://outlook.office365.us/SMTP.Send'],
        });
        assert.deepEqual(items[1]?.scopes, {
          imap: ['https://outlook.office.com/IMAP.AccessAsUser.All'],
          pop3: ['https://outlook.office.com/POP.AccessAsUser.All'],
          smtp: ['https://outlook.office.com/SMTP.Send'],
        });
        const google = await call('GET', `/api/v1/mail-server-presets?linkId=${googleLinkId}`);
        assert.deepEqual(google.json(), {
          items: [
            {
              id: 'gmail',
              provider: 'google',
              name: 'Gmail',
              servers: {
                imap: [{ host: 'imap.gmail.com', port: 993, security: 'tls' }],
                pop3: [{ host: 'pop.gmail.com', port: 995, security: 'tls' }],
                smtp: [
                  { host: 'smtp.gmail.com', port: 465, security: 'tls' },
                  { host: 'smtp.gmail.com', port: 587, security: 'starttls' },
                ],
              },
              scopes: {
                imap: ['https://mail.google.com/'],
                pop3: ['https://mail.google.com/'],
                smtp: ['https://mail.google.com/'],
              },
            },
          ],
        });
        const custom = await call('GET', `/api/v1/mail-server-presets?linkId=${world.linkId}`);
        assert.deepEqual(custom.json(), { items: [] });
        const unknown = await call('GET', `/api/v1/mail-server-presets?linkId=${UNKNOWN_ID}`);
        assert.equal(unknown.statusCode, 404);
        assert.equal(errorOf(unknown).code, 'link_not_found');
      });
    });

    describe('links and connections in use', () => {
      it('are not deleted while mail servers use them; the answer lists the servers', async () => {
        const link = await call('POST', '/api/v1/links', {
          name: `In use ${dialect}`,
          provider: 'custom',
          clientId: TEST_CLIENT.clientId,
          clientSecret: TEST_CLIENT.clientSecret,
          scopes: ['openid', 'email', 'offline_access'],
          issuer: world.as.issuer,
          authorizationEndpoint: world.as.endpoints.authorization,
          tokenEndpoint: world.as.endpoints.token,
        });
        assert.equal(link.statusCode, 201, link.body);
        const linkId = (link.json() as { id: string }).id;
        const connectionId = await authorizeAccount(world.outlink, { as: world.as }, linkId, BOB);
        const b = await world.createServer(
          imapBody({ name: `Zeta ${dialect}`, authentication: { method: 'oauth2', connectionId } }),
        );
        const a = await world.createServer(
          imapBody({
            name: `Alpha ${dialect}`,
            protocol: 'smtp',
            authentication: { method: 'oauth2', connectionId },
          }),
        );
        const before = await snapshot();
        const linkRes = await call('DELETE', `/api/v1/links/${linkId}`);
        assert.equal(linkRes.statusCode, 409);
        assert.deepEqual(errorOf(linkRes), {
          code: 'link_in_use',
          message: `The link is used by mail servers: Alpha ${dialect}, Zeta ${dialect}.`,
          remedy: 'Change those mail servers to another authentication first.',
        });
        const connRes = await call('DELETE', `/api/v1/connections/${connectionId}`);
        assert.equal(connRes.statusCode, 409);
        assert.deepEqual(errorOf(connRes), {
          code: 'connection_in_use',
          message: `The connection is used by mail servers: Alpha ${dialect}, Zeta ${dialect}.`,
          remedy: 'Change those mail servers to another connection or authentication first.',
        });
        assert.deepEqual(await snapshot(), before, 'nothing deleted, nothing recorded');

        assert.equal((await call('DELETE', `/api/v1/mail-servers/${a.id}`)).statusCode, 204);
        const still = await call('DELETE', `/api/v1/connections/${connectionId}`);
        assert.equal(
          errorOf(still).message,
          `The connection is used by mail servers: Zeta ${dialect}.`,
        );
        const moved = await call('PATCH', `/api/v1/mail-servers/${b.id}`, {
          authentication: { method: 'oauth2', connectionId: world.alice },
        });
        assert.equal(moved.statusCode, 200);
        assert.equal((await call('DELETE', `/api/v1/connections/${connectionId}`)).statusCode, 204);
        assert.equal((await call('DELETE', `/api/v1/links/${linkId}`)).statusCode, 200);
      });
    });

    describe('bad input: exact codes, the database untouched', () => {
      type Case = readonly [
        label: string,
        body: () => unknown,
        status: number,
        code: string,
        field: string | null,
      ];
      const base = () => imapBody() as Record<string, unknown>;
      const set = (field: string, value: unknown) => () => {
        const body = base();
        if (value === MISSING) delete body[field];
        else body[field] = value;
        return body;
      };
      const auth = (value: unknown) => set('authentication', value);
      const createCases: Case[] = [
        ['name: number', set('name', 42), 422, 'field_type', 'name'],
        ['name: empty', set('name', ''), 422, 'field_empty', 'name'],
        ['name: blank', set('name', '   '), 422, 'field_invalid', 'name'],
        ['name: too long', set('name', 'n'.repeat(101)), 422, 'field_too_long', 'name'],
        ['name: missing', set('name', MISSING), 422, 'field_required', 'name'],
        ['protocol: unknown', set('protocol', 'imaps'), 422, 'field_invalid', 'protocol'],
        ['protocol: upper case', set('protocol', 'IMAP'), 422, 'field_invalid', 'protocol'],
        ['protocol: missing', set('protocol', MISSING), 422, 'field_required', 'protocol'],
        ['host: empty', set('host', ''), 422, 'field_empty', 'host'],
        ['host: with a space', set('host', 'mail example'), 422, 'field_invalid', 'host'],
        ['host: a URL', set('host', 'imaps://mail.example.test'), 422, 'field_invalid', 'host'],
        ['host: empty label', set('host', 'mail..example'), 422, 'field_invalid', 'host'],
        ['host: too long', set('host', `${'a'.repeat(250)}.com`), 422, 'field_too_long', 'host'],
        ['host: number', set('host', 42), 422, 'field_type', 'host'],
        ['host: missing', set('host', MISSING), 422, 'field_required', 'host'],
        ['port: zero', set('port', 0), 422, 'field_invalid', 'port'],
        ['port: too high', set('port', 65536), 422, 'field_invalid', 'port'],
        ['port: fraction', set('port', 993.5), 422, 'field_type', 'port'],
        ['port: string', set('port', '993'), 422, 'field_type', 'port'],
        ['port: null', set('port', null), 422, 'field_type', 'port'],
        ['security: unknown', set('security', 'ssl'), 422, 'field_invalid', 'security'],
        ['security: null', set('security', null), 422, 'field_invalid', 'security'],
        ['username: empty', set('username', ''), 422, 'field_empty', 'username'],
        [
          'username: a space',
          set('username', 'a b@example.test'),
          422,
          'field_invalid',
          'username',
        ],
        ['username: control', set('username', 'a\u0001@x'), 422, 'field_invalid', 'username'],
        [
          'username: too long',
          set('username', `${'u'.repeat(310)}@example.test`),
          422,
          'field_too_long',
          'username',
        ],
        ['username: missing', set('username', MISSING), 422, 'field_required', 'username'],
        ['authentication: missing', auth(MISSING), 422, 'field_required', 'authentication'],
        ['authentication: string', auth('oauth2'), 422, 'field_type', 'authentication'],
        ['authentication: no method', auth({}), 422, 'field_required', 'authentication.method'],
        [
          'authentication: unknown method',
          auth({ method: 'basic' }),
          422,
          'field_invalid',
          'authentication.method',
        ],
        [
          'authentication: unknown field',
          auth({ method: 'oauth2', token: 'x' }),
          422,
          'unknown_field',
          'authentication.token',
        ],
        [
          'oauth2: neither link nor connection',
          auth({ method: 'oauth2' }),
          422,
          'field_required',
          'authentication.connectionId',
        ],
        [
          'oauth2: connection not a uuid',
          auth({ method: 'oauth2', connectionId: 'alice' }),
          422,
          'field_invalid',
          'authentication.connectionId',
        ],
        [
          'oauth2: unknown connection',
          auth({ method: 'oauth2', connectionId: UNKNOWN_ID }),
          422,
          'field_invalid',
          'authentication.connectionId',
        ],
        [
          'oauth2: unknown link',
          auth({ method: 'oauth2', linkId: UNKNOWN_ID }),
          422,
          'field_invalid',
          'authentication.linkId',
        ],
        [
          'oauth2: a password too',
          () => ({
            ...base(),
            authentication: { method: 'oauth2', connectionId: world.alice, password: 'p' },
          }),
          422,
          'mail_field_not_applicable',
          'authentication.password',
        ],
        [
          'oauth2: connection of another link',
          () => ({
            ...base(),
            authentication: { method: 'oauth2', connectionId: world.alice, linkId: googleLinkId },
          }),
          422,
          'field_invalid',
          'authentication.connectionId',
        ],
        [
          'password: missing',
          auth({ method: 'password' }),
          422,
          'field_required',
          'authentication.password',
        ],
        [
          'password: empty',
          auth({ method: 'password', password: '' }),
          422,
          'field_empty',
          'authentication.password',
        ],
        [
          'password: too long',
          auth({ method: 'password', password: 'p'.repeat(1025) }),
          422,
          'field_too_long',
          'authentication.password',
        ],
        [
          'password: with a connection',
          () => ({
            ...base(),
            authentication: { method: 'password', password: 'p', connectionId: world.alice },
          }),
          422,
          'mail_field_not_applicable',
          'authentication.connectionId',
        ],
        [
          'saslMechanism: PLAIN',
          set('saslMechanism', 'PLAIN'),
          422,
          'field_invalid',
          'saslMechanism',
        ],
        [
          'saslMechanism: with a password',
          () => ({
            ...base(),
            saslMechanism: 'XOAUTH2',
            authentication: { method: 'password', password: 'p' },
          }),
          422,
          'mail_field_not_applicable',
          'saslMechanism',
        ],
        ['folder: empty', set('folder', ''), 422, 'field_empty', 'folder'],
        ['folder: control', set('folder', 'IN\nBOX'), 422, 'field_invalid', 'folder'],
        [
          'folder: POP3',
          () => ({ ...base(), protocol: 'pop3', folder: 'INBOX' }),
          422,
          'mail_field_not_applicable',
          'folder',
        ],
        [
          'folder: SMTP',
          () => ({ ...base(), protocol: 'smtp', folder: 'INBOX' }),
          422,
          'mail_field_not_applicable',
          'folder',
        ],
        [
          'pollIntervalSeconds: too short',
          set('pollIntervalSeconds', 10),
          422,
          'field_invalid',
          'pollIntervalSeconds',
        ],
        [
          'pollIntervalSeconds: string',
          set('pollIntervalSeconds', '60'),
          422,
          'field_type',
          'pollIntervalSeconds',
        ],
        [
          'pollIntervalSeconds: SMTP',
          () => ({ ...base(), protocol: 'smtp', pollIntervalSeconds: 60 }),
          422,
          'mail_field_not_applicable',
          'pollIntervalSeconds',
        ],
        [
          'processedAction: unknown',
          set('processedAction', 'archive'),
          422,
          'field_invalid',
          'processedAction',
        ],
        [
          'processedAction: move without a folder',
          set('processedAction', 'move'),
          422,
          'field_required',
          'processedFolder',
        ],
        [
          'processedAction: move on POP3',
          () => ({ ...base(), protocol: 'pop3', processedAction: 'move', processedFolder: 'Done' }),
          422,
          'field_invalid',
          'processedAction',
        ],
        [
          'processedFolder: without move',
          set('processedFolder', 'Done'),
          422,
          'mail_field_not_applicable',
          'processedFolder',
        ],
        ['unknown field', set('tls', true), 422, 'unknown_field', 'tls'],
        ['body: array', () => [base()], 422, 'field_type', 'body'],
      ];
      const patchCases: Case[] = [
        [
          'PATCH protocol: change',
          () => ({ protocol: 'pop3' }),
          422,
          'protocol_immutable',
          'protocol',
        ],
        ['PATCH name: empty', () => ({ name: '' }), 422, 'field_empty', 'name'],
        ['PATCH port: zero', () => ({ port: 0 }), 422, 'field_invalid', 'port'],
        [
          'PATCH security: unknown',
          () => ({ security: 'plain' }),
          422,
          'field_invalid',
          'security',
        ],
        [
          'PATCH authentication: unknown method',
          () => ({ authentication: { method: 'x' } }),
          422,
          'field_invalid',
          'authentication.method',
        ],
        [
          'PATCH authentication: password missing',
          () => ({ authentication: { method: 'password' } }),
          422,
          'field_required',
          'authentication.password',
        ],
        [
          'PATCH processedAction: move without a folder',
          () => ({ processedAction: 'move' }),
          422,
          'field_required',
          'processedFolder',
        ],
        ['PATCH unknown field', () => ({ password: 'x' }), 422, 'unknown_field', 'password'],
      ];

      let target: MailServerJson;
      let taken: MailServerJson;
      let baseline: Record<string, string[]>;
      before(async () => {
        target = await world.createServer(imapBody());
        taken = await world.createServer(imapBody());
        baseline = await snapshot();
      });

      const expectError = async (
        res: LightMyRequestResponse,
        status: number,
        code: string,
        field: string | null,
      ) => {
        assert.equal(res.statusCode, status, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const error = errorOf(res);
        assert.equal(error.code, code, res.body);
        assert.ok(error.message.length > 0);
        if (field !== null) assert.equal(error.field, field, res.body);
        assert.deepEqual(await snapshot(), baseline, 'the database must be untouched');
      };

      for (const [label, body, status, code, field] of createCases) {
        it(`POST ${label} → ${status} ${code}`, async () => {
          await expectError(
            await call('POST', '/api/v1/mail-servers', body()),
            status,
            code,
            field,
          );
        });
      }
      for (const [label, body, status, code, field] of patchCases) {
        it(`${label} → ${status} ${code}`, async () => {
          await expectError(
            await call('PATCH', `/api/v1/mail-servers/${target.id}`, body()),
            status,
            code,
            field,
          );
        });
      }

      it('PATCH name taken → 409 mail_server_name_taken', async () => {
        await expectError(
          await call('PATCH', `/api/v1/mail-servers/${target.id}`, { name: taken.name }),
          409,
          'mail_server_name_taken',
          'name',
        );
      });

      it('a body that is not JSON → 400 body_malformed; text/plain → 415', async () => {
        const headers = await world.outlink.adminHeaders();
        const malformed = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/mail-servers',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: '{"name":',
        });
        await expectError(malformed, 400, 'body_malformed', null);
        const text = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/mail-servers',
          headers: { ...headers, 'content-type': 'text/plain' },
          payload: 'name=x',
        });
        await expectError(text, 415, 'unsupported_media_type', null);
      });

      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const payload = method === 'PATCH' ? { port: 993 } : undefined;
        it(`${method} /api/v1/mail-servers/:id: not a uuid → 422, unknown → 404`, async () => {
          await expectError(
            await call(method, '/api/v1/mail-servers/not-a-uuid', payload),
            422,
            'field_invalid',
            'id',
          );
          await expectError(
            await call(method, `/api/v1/mail-servers/${UNKNOWN_ID}`, payload),
            404,
            'mail_server_not_found',
            null,
          );
        });
      }

      it('POST …/test: an address for an incoming server, a bad address, an unknown server', async () => {
        await expectError(
          await call('POST', `/api/v1/mail-servers/${target.id}/test`, { to: BOB }),
          422,
          'mail_field_not_applicable',
          'to',
        );
        await expectError(
          await call('POST', `/api/v1/mail-servers/${target.id}/test`, { to: 'bob at example' }),
          422,
          'field_invalid',
          'to',
        );
        await expectError(
          await call('POST', `/api/v1/mail-servers/${target.id}/test`, { cc: BOB }),
          422,
          'unknown_field',
          'cc',
        );
        await expectError(
          await call('POST', `/api/v1/mail-servers/${UNKNOWN_ID}/test`, {}),
          404,
          'mail_server_not_found',
          null,
        );
      });

      it('POST …/test without a body tests with the defaults', async () => {
        const port = await closedPort();
        const closed = await world.createServer(imapBody({ host: '127.0.0.1', port }));
        const res = await world.outlink.app.inject({
          method: 'POST',
          url: `/api/v1/mail-servers/${closed.id}/test`,
          headers: await world.outlink.adminHeaders(),
        });
        assert.equal(res.statusCode, 200, res.body);
        const report = res.json() as { ok: boolean; error: { step: string; code: string } };
        assert.deepEqual(
          { ok: report.ok, step: report.error.step, code: report.error.code },
          { ok: false, step: 'connect', code: 'connect_failed' },
        );
        baseline = await snapshot();
      });

      it('GET lists: a bad cursor or limit', async () => {
        await expectError(
          await call('GET', '/api/v1/mail-servers?cursor=nope'),
          422,
          'field_invalid',
          'cursor',
        );
        await expectError(
          await call('GET', '/api/v1/mail-servers?limit=0'),
          422,
          'field_invalid',
          'limit',
        );
        await expectError(
          await call('GET', '/api/v1/mail-server-presets?linkId=x'),
          422,
          'field_invalid',
          'linkId',
        );
      });

      it('strangers and token:read credentials are refused', async () => {
        const anonymous = await world.outlink.app.inject({
          method: 'POST',
          url: '/api/v1/mail-servers',
          payload: imapBody(),
        });
        await expectError(anonymous, 401, 'not_authenticated', null);
        const reader = await call('POST', '/api/v1/api-tokens', {
          name: `reader ${dialect}`,
          scopes: ['token:read'],
          connectionIds: [world.alice],
        });
        baseline = await snapshot();
        const token = (reader.json() as { token: string }).token;
        for (const [method, url] of [
          ['GET', '/api/v1/mail-servers'],
          ['POST', `/api/v1/mail-servers/${target.id}/test`],
          ['DELETE', `/api/v1/mail-servers/${target.id}`],
        ] as const) {
          const res = await world.outlink.app.inject({
            method,
            url,
            headers: { authorization: `Bearer ${token}` },
            ...(method === 'POST' ? { payload: {} } : {}),
          });
          await expectError(res, 403, 'forbidden', null);
        }
      });
    });
  });
}
