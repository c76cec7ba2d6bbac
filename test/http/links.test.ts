import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createManualClock } from '../../src/domain/clock.js';
import ja from '../../src/i18n/ja.json' with { type: 'json' };
import { Dialects, googleLink, startOutlink, type TestOutlink } from '../support/harness.js';

const BASE = 'https://localhost:8443';
const GOOGLE_AUTH = 'https://accounts.google.com/o/oauth2/v2/auth';
const GOOGLE_TOKEN = 'https://oauth2.googleapis.com/token';
const MS = 'https://login.microsoftonline.com';
const OUTLOOK = 'https://outlook.office.com/';
const OUTLOOK_GCC = 'https://outlook.office365.com/';

/** DESIGN §4, computed here independently of `src/domain/link.ts`. */
const redirectUrl = (authorizationEndpoint: string, base = BASE) =>
  `${base}/oauth2/callback/${createHash('sha256').update(authorizationEndpoint).digest('base64url').slice(0, 22)}`;

/** Every secret these tests send starts with this, so one search finds any leak. */
const MARKER = `LEAKCHECK-${randomBytes(4).toString('hex')}`;
const secret = () => `${MARKER}-${randomBytes(4).toString('hex')}`;

interface LinkJson {
  id: string;
  name: string;
  description: string;
  direction: string;
  applicationType: string;
  provider: string;
  clientId: string;
  clientSecretSet: boolean;
  scopes: string[];
  authorizationEndpoint: string;
  tokenEndpoint: string;
  issuer: string | null;
  tenant: string | null;
  cloud: string | null;
  clientAuthMethod: string;
  clientSecretExpiresAt: string | null;
  redirectUrl: string;
  createdAt: string;
  updatedAt: string;
  connections: unknown[];
  warnings?: { code: string; message: string }[];
}

/** A valid Google link body whose secret carries the marker. */
const gmail = (overrides: Record<string, unknown> = {}) =>
  googleLink({ clientSecret: secret(), ...overrides });

const codes = (link: LinkJson) => (link.warnings ?? []).map((w) => w.code);

for (const dialect of Dialects) {
  describe(`links API on ${dialect}`, () => {
    const clock = createManualClock(new Date('2026-02-01T10:00:00.000Z'));
    let outlink: TestOutlink;
    /** Every response body of this suite, searched for the secret marker at the end. */
    const bodies: string[] = [];

    before(async () => {
      outlink = await startOutlink(dialect, { clock });
    });
    after(async () => {
      await outlink?.close();
    });

    const call = async (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      payload?: object,
      headers?: Record<string, string>,
    ): Promise<LightMyRequestResponse> => {
      const res = await outlink.app.inject({
        method,
        url,
        payload,
        headers: { ...(headers ?? (await outlink.adminHeaders())) },
      });
      bodies.push(res.body);
      return res;
    };
    const create = async (body: Record<string, unknown>, expected = 201) => {
      const res = await call('POST', '/api/v1/links', body);
      assert.equal(res.statusCode, expected, res.body);
      return res.json() as LinkJson;
    };
    const update = async (id: string, body: Record<string, unknown>, expected = 200) => {
      clock.advance(1000);
      const res = await call('PATCH', `/api/v1/links/${id}`, body);
      assert.equal(res.statusCode, expected, res.body);
      return res.json() as LinkJson;
    };
    const show = async (id: string) => {
      const res = await call('GET', `/api/v1/links/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as LinkJson;
    };
    const error = (res: LightMyRequestResponse) =>
      (res.json() as { error: { code: string; field?: string; message: string } }).error;
    const refused = async (
      res: Promise<LightMyRequestResponse>,
      status: number,
      code: string,
      field?: string,
    ) => {
      const r = await res;
      assert.equal(r.statusCode, status, r.body);
      assert.equal(error(r).code, code, r.body);
      if (field !== undefined) assert.equal(error(r).field, field, r.body);
      return r;
    };
    const storedRow = (id: string) =>
      outlink.services.store.db
        .selectFrom('links')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    describe('Google', () => {
      it('creates a link with the preset endpoints, scope, issuer and redirect URL', async () => {
        const link = await create(gmail({ clientSecret: secret(), description: ' Support ' }));
        assert.equal(link.provider, 'google');
        assert.equal(link.direction, 'outgoing');
        assert.equal(link.applicationType, 'external');
        assert.equal(link.description, 'Support');
        assert.equal(link.authorizationEndpoint, GOOGLE_AUTH);
        assert.equal(link.tokenEndpoint, GOOGLE_TOKEN);
        assert.equal(link.issuer, 'https://accounts.google.com');
        assert.deepEqual(link.scopes, ['https://mail.google.com/']);
        assert.equal(link.redirectUrl, redirectUrl(GOOGLE_AUTH));
        assert.equal(link.clientSecretSet, true);
        assert.equal(link.clientAuthMethod, 'client_secret_post');
        assert.deepEqual(link.connections, []);
        assert.deepEqual(link.warnings, [], 'localhost is no IP literal: no warning');
        assert.equal(link.createdAt, clock.now().toISOString());
        assert.ok(!('clientSecret' in link));
      });

      it('normalises https://mail.google.com to the trailing-slash form with a warning', async () => {
        const link = await create(gmail({ scopes: ['https://mail.google.com'] }));
        assert.deepEqual(link.scopes, ['https://mail.google.com/']);
        assert.deepEqual(link.warnings, [
          {
            code: 'scope_normalized',
            message:
              'The scope https://mail.google.com was changed to https://mail.google.com/: Google only accepts the form with the trailing slash.',
          },
        ]);
      });

      it('keeps one scope when the normalised one duplicates another', async () => {
        const link = await create(
          gmail({ scopes: [' https://mail.google.com/ ', 'https://mail.google.com', 'openid'] }),
        );
        assert.deepEqual(link.scopes, ['https://mail.google.com/', 'openid']);
        assert.deepEqual(codes(link), ['scope_normalized']);
      });

      it('refuses Microsoft-only options with 422 field_not_applicable', async () => {
        await refused(
          call('POST', '/api/v1/links', gmail({ tenant: 'common' })),
          422,
          'field_not_applicable',
          'tenant',
        );
        await refused(
          call('POST', '/api/v1/links', gmail({ cloud: 'gcc' })),
          422,
          'field_not_applicable',
          'cloud',
        );
      });
    });

    describe('Microsoft', () => {
      const microsoft = (overrides: Record<string, unknown> = {}) =>
        gmail({
          provider: 'microsoft',
          clientId: '00000000-aaaa-bbbb-cccc-000000000001',
          ...overrides,
        });

      it('defaults to tenant common, the global cloud, the mail scopes and offline_access', async () => {
        const link = await create(microsoft({ clientSecret: secret() }));
        assert.equal(link.tenant, 'common');
        assert.equal(link.cloud, 'global');
        assert.equal(link.authorizationEndpoint, `${MS}/common/oauth2/v2.0/authorize`);
        assert.equal(link.tokenEndpoint, `${MS}/common/oauth2/v2.0/token`);
        assert.equal(link.redirectUrl, redirectUrl(`${MS}/common/oauth2/v2.0/authorize`));
        assert.deepEqual(link.scopes, [
          `${OUTLOOK}IMAP.AccessAsUser.All`,
          `${OUTLOOK}POP.AccessAsUser.All`,
          `${OUTLOOK}SMTP.Send`,
          'offline_access',
        ]);
        assert.deepEqual(codes(link), ['offline_access_added']);
        assert.equal(link.issuer, null);
      });

      for (const [cloud, login, resource, portal] of [
        [
          'gcc_high',
          'https://login.microsoftonline.us',
          'https://outlook.office365.us/',
          'https://portal.azure.us',
        ],
        [
          'dod',
          'https://login.microsoftonline.us',
          'https://outlook.office365.us/',
          'https://portal.azure.us',
        ],
        [
          'china',
          'https://login.chinacloudapi.cn',
          'https://partner.outlook.cn/',
          'https://portal.azure.cn',
        ],
      ] as const) {
        it(`creates a ${cloud} link on ${login} with its own scopes and redirect URL`, async () => {
          const link = await create(microsoft({ cloud, tenant: 'contoso.example' }));
          const authorize = `${login}/contoso.example/oauth2/v2.0/authorize`;
          assert.equal(link.cloud, cloud);
          assert.equal(link.authorizationEndpoint, authorize);
          assert.equal(link.tokenEndpoint, `${login}/contoso.example/oauth2/v2.0/token`);
          assert.equal(link.redirectUrl, redirectUrl(authorize));
          assert.notEqual(
            link.redirectUrl,
            redirectUrl(`${MS}/contoso.example/oauth2/v2.0/authorize`),
          );
          assert.deepEqual(link.scopes, [
            `${resource}IMAP.AccessAsUser.All`,
            `${resource}POP.AccessAsUser.All`,
            `${resource}SMTP.Send`,
            'offline_access',
          ]);
          assert.deepEqual(codes(link), ['offline_access_added', 'national_cloud_registration']);
          assert.match(link.warnings?.[1]?.message ?? '', new RegExp(portal.replace(/\./g, '\\.')));
          // A worldwide scope typed by hand moves onto the cloud's resource.
          const typed = await create(
            microsoft({ cloud, scopes: [`${OUTLOOK}SMTP.Send`, 'offline_access'] }),
          );
          assert.deepEqual(typed.scopes, [`${resource}SMTP.Send`, 'offline_access']);
        });
      }

      it('moves preset endpoints and scopes with the cloud on update (with the secret again)', async () => {
        const link = await create(microsoft({ clientSecret: secret() }));
        const refused = await call('PATCH', `/api/v1/links/${link.id}`, { cloud: 'gcc_high' });
        assert.equal(refused.statusCode, 422, refused.body);
        assert.equal(error(refused).code, 'client_secret_required');
        const moved = await update(link.id, { cloud: 'gcc_high', clientSecret: secret() });
        assert.equal(
          moved.authorizationEndpoint,
          'https://login.microsoftonline.us/common/oauth2/v2.0/authorize',
        );
        assert.equal(
          moved.tokenEndpoint,
          'https://login.microsoftonline.us/common/oauth2/v2.0/token',
        );
        assert.ok(moved.scopes.includes('https://outlook.office365.us/SMTP.Send'));
      });

      it('answers an unknown cloud with 422', async () => {
        const res = await call('POST', '/api/v1/links', microsoft({ cloud: 'germany' }));
        assert.equal(res.statusCode, 422, res.body);
        assert.equal(error(res).field, 'cloud');
      });

      it('puts the tenant into both endpoints and the redirect URL', async () => {
        const link = await create(microsoft({ tenant: 'contoso.onmicrosoft.com' }));
        const authorize = `${MS}/contoso.onmicrosoft.com/oauth2/v2.0/authorize`;
        assert.equal(link.authorizationEndpoint, authorize);
        assert.equal(link.tokenEndpoint, `${MS}/contoso.onmicrosoft.com/oauth2/v2.0/token`);
        assert.equal(link.redirectUrl, redirectUrl(authorize));
      });

      it('moves scope hosts to outlook.office365.com for gcc, with a warning per scope', async () => {
        const link = await create(
          microsoft({
            cloud: 'gcc',
            scopes: [`${OUTLOOK}IMAP.AccessAsUser.All`, 'offline_access'],
          }),
        );
        assert.equal(link.cloud, 'gcc');
        assert.deepEqual(link.scopes, [`${OUTLOOK_GCC}IMAP.AccessAsUser.All`, 'offline_access']);
        assert.deepEqual(link.warnings, [
          {
            code: 'scope_cloud_adjusted',
            message: `The scope ${OUTLOOK}IMAP.AccessAsUser.All was changed to ${OUTLOOK_GCC}IMAP.AccessAsUser.All to match the gcc cloud.`,
          },
        ]);
      });

      it('gives gcc its own preset scopes without a warning beyond offline_access', async () => {
        const link = await create(microsoft({ cloud: 'gcc' }));
        assert.deepEqual(link.scopes, [
          `${OUTLOOK_GCC}IMAP.AccessAsUser.All`,
          `${OUTLOOK_GCC}POP.AccessAsUser.All`,
          `${OUTLOOK_GCC}SMTP.Send`,
          'offline_access',
        ]);
        assert.deepEqual(codes(link), ['offline_access_added']);
      });

      it('adds offline_access to chosen scopes and says so', async () => {
        const link = await create(microsoft({ scopes: [`${OUTLOOK}SMTP.Send`] }));
        assert.deepEqual(link.scopes, [`${OUTLOOK}SMTP.Send`, 'offline_access']);
        assert.deepEqual(link.warnings?.[0]?.code, 'offline_access_added');
        assert.match(link.warnings?.[0]?.message ?? '', /offline_access/);
      });

      it('moves preset endpoints when an update changes the tenant', async () => {
        const link = await create(microsoft());
        const updated = await update(link.id, { tenant: 'organizations' });
        const authorize = `${MS}/organizations/oauth2/v2.0/authorize`;
        assert.equal(updated.tenant, 'organizations');
        assert.equal(updated.authorizationEndpoint, authorize);
        assert.equal(updated.tokenEndpoint, `${MS}/organizations/oauth2/v2.0/token`);
        assert.equal(updated.redirectUrl, redirectUrl(authorize));
        assert.deepEqual(updated.scopes, link.scopes);
      });

      it('refuses a tenant that is no tenant name with 422', async () => {
        await refused(
          call('POST', '/api/v1/links', microsoft({ tenant: 'not a/tenant' })),
          422,
          'field_invalid',
          'tenant',
        );
      });
    });

    describe('custom providers', () => {
      const custom = (overrides: Record<string, unknown> = {}) =>
        gmail({
          provider: 'custom',
          clientId: 'client-1',
          authorizationEndpoint: 'https://as.example.test/oauth2/authorize',
          tokenEndpoint: 'https://as.example.test/oauth2/token',
          scopes: ['mail'],
          ...overrides,
        });

      it('takes both endpoints as given, with the redirect URL of its authorization endpoint', async () => {
        const link = await create(custom({ clientAuthMethod: 'client_secret_basic' }));
        assert.equal(link.authorizationEndpoint, 'https://as.example.test/oauth2/authorize');
        assert.equal(link.tokenEndpoint, 'https://as.example.test/oauth2/token');
        assert.equal(link.redirectUrl, redirectUrl('https://as.example.test/oauth2/authorize'));
        assert.equal(link.clientAuthMethod, 'client_secret_basic');
        assert.equal(link.issuer, null);
        assert.equal(link.tenant, null);
        assert.equal(link.cloud, null);
      });

      it('trims and de-duplicates scopes, keeping their order', async () => {
        const link = await create(
          custom({ scopes: ['  openid ', 'email', 'openid', 'email ', 'offline_access'] }),
        );
        assert.deepEqual(link.scopes, ['openid', 'email', 'offline_access']);
      });

      it('requires at least one scope', async () => {
        await refused(
          call('POST', '/api/v1/links', custom({ scopes: [] })),
          422,
          'scopes_empty',
          'scopes',
        );
        const { scopes: _omitted, ...withoutScopes } = custom();
        await refused(call('POST', '/api/v1/links', withoutScopes), 422, 'scopes_empty', 'scopes');
        await refused(
          call('POST', '/api/v1/links', custom({ scopes: ['  '] })),
          422,
          'field_invalid',
          'scopes[0]',
        );
      });

      it('requires both endpoints or an issuer (endpoints_required)', async () => {
        for (const missing of ['authorizationEndpoint', 'tokenEndpoint']) {
          const body = custom();
          delete body[missing];
          await refused(call('POST', '/api/v1/links', body), 422, 'endpoints_required');
        }
        const body = custom();
        delete body.authorizationEndpoint;
        delete body.tokenEndpoint;
        await refused(call('POST', '/api/v1/links', body), 422, 'endpoints_required');
      });

      it('refuses http:// endpoints with 422 endpoint_not_https naming the field', async () => {
        await refused(
          call(
            'POST',
            '/api/v1/links',
            custom({ authorizationEndpoint: 'http://as.example.test/a' }),
          ),
          422,
          'endpoint_not_https',
          'authorizationEndpoint',
        );
        await refused(
          call('POST', '/api/v1/links', custom({ tokenEndpoint: 'http://as.example.test/t' })),
          422,
          'endpoint_not_https',
          'tokenEndpoint',
        );
      });
    });

    describe('show, update and delete', () => {
      it('shows a link as it was created, without warnings', async () => {
        const created = await create(gmail());
        const { warnings: _w, ...expected } = created;
        assert.deepEqual(await show(created.id), expected);
      });

      it('keeps omitted fields on PATCH and records the change time', async () => {
        const created = await create(gmail({ description: 'before' }));
        const updated = await update(created.id, { description: 'after' });
        assert.equal(updated.description, 'after');
        assert.equal(updated.updatedAt, clock.now().toISOString());
        assert.notEqual(updated.updatedAt, created.updatedAt);
        const { description: _d1, updatedAt: _u1, warnings: _w1, ...rest } = created;
        const { description: _d2, updatedAt: _u2, warnings: _w2, ...restAfter } = updated;
        assert.deepEqual(restAfter, rest);
      });

      it('replaces the client secret without ever showing it', async () => {
        const first = secret();
        const created = await create(gmail({ clientSecret: first }));
        const before = await storedRow(created.id);
        const second = secret();
        const updated = await update(created.id, { clientSecret: second });
        assert.equal(updated.clientSecretSet, true);
        const afterRow = await storedRow(created.id);
        assert.notEqual(afterRow.client_secret_enc, before.client_secret_enc);
        assert.ok(!afterRow.client_secret_enc.includes(second));
        assert.equal(await outlink.services.links.clientSecret(created.id), second);
      });

      it('refuses a provider change with 422 provider_immutable, accepts the same provider', async () => {
        const created = await create(gmail());
        const before = await storedRow(created.id);
        await refused(
          call('PATCH', `/api/v1/links/${created.id}`, { provider: 'microsoft' }),
          422,
          'provider_immutable',
          'provider',
        );
        assert.deepEqual(await storedRow(created.id), before);
        const same = await update(created.id, { provider: 'google', description: 'same' });
        assert.equal(same.provider, 'google');
      });

      it('deletes a link: 200 with what came of its grants, then 404 link_not_found for show, update and delete', async () => {
        const created = await create(gmail());
        const res = await call('DELETE', `/api/v1/links/${created.id}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), {
          id: created.id,
          connections: 0,
          revocation: {
            status: 'nothing_to_revoke',
            revoked: 0,
            failed: 0,
            message: 'There was no grant to revoke at the provider.',
          },
        });
        await refused(call('GET', `/api/v1/links/${created.id}`), 404, 'link_not_found');
        await refused(
          call('PATCH', `/api/v1/links/${created.id}`, { description: 'x' }),
          404,
          'link_not_found',
        );
        await refused(call('DELETE', `/api/v1/links/${created.id}`), 404, 'link_not_found');
      });
    });

    describe('unique names', () => {
      it('refuses a duplicate name, also differing only in case, with 409 link_name_taken', async () => {
        const name = `Support ${randomBytes(3).toString('hex')}`;
        await create(gmail({ name }));
        await refused(
          call('POST', '/api/v1/links', gmail({ name })),
          409,
          'link_name_taken',
          'name',
        );
        await refused(
          call('POST', '/api/v1/links', gmail({ name: ` ${name.toUpperCase()} ` })),
          409,
          'link_name_taken',
        );
      });

      it('refuses renaming onto another link’s name, allows re-casing its own', async () => {
        const name = `Billing ${randomBytes(3).toString('hex')}`;
        const first = await create(gmail({ name }));
        const second = await create(gmail());
        const before = await storedRow(second.id);
        await refused(
          call('PATCH', `/api/v1/links/${second.id}`, { name: name.toLowerCase() }),
          409,
          'link_name_taken',
        );
        assert.deepEqual(await storedRow(second.id), before);
        const recased = await update(first.id, { name: name.toUpperCase() });
        assert.equal(recased.name, name.toUpperCase());
      });
    });

    describe('events', () => {
      it('records created, updated and deleted with the actor and never the secret', async () => {
        const clientSecret = secret();
        const created = await create(gmail({ clientSecret }));
        await update(created.id, { clientSecret: secret(), description: 'changed' });
        const token = await outlink.tokenHeaders();
        const del = await call('DELETE', `/api/v1/links/${created.id}`, undefined, token);
        assert.equal(del.statusCode, 200);

        const res = await call('GET', `/api/v1/events?linkId=${created.id}`);
        assert.equal(res.statusCode, 200);
        const items = (
          res.json() as {
            items: { type: string; actor: string; linkId: string; data: Record<string, unknown> }[];
          }
        ).items;
        assert.deepEqual(
          items.map((e) => [e.type, e.actor, e.linkId]),
          [
            ['link.deleted', items[0]?.actor, created.id],
            ['link.updated', 'admin', created.id],
            ['link.created', 'admin', created.id],
          ],
        );
        assert.match(items[0]!.actor, /^api-token:/);
        assert.deepEqual(items[2]!.data, { name: created.name, provider: 'google' });
        assert.deepEqual(
          new Set(items[1]!.data.changed as string[]),
          new Set(['clientSecret', 'description']),
        );
        assert.ok(!res.body.includes(MARKER));
      });
    });

    describe('list', () => {
      it('pages through every link with limit and nextCursor, ordered by name', async () => {
        for (const name of ['page-b', 'Page-A', 'page-d', 'PAGE-C', 'page-e']) {
          await create(gmail({ name: `${name}-${randomBytes(2).toString('hex')}` }));
        }
        const all = await call('GET', '/api/v1/links?limit=200');
        const everything = all.json() as { items: LinkJson[]; nextCursor?: string };
        assert.equal(everything.nextCursor, undefined);
        const seen: LinkJson[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const res = await call(
            'GET',
            `/api/v1/links?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json() as { items: LinkJson[]; nextCursor?: string };
          assert.ok(page.items.length <= 2);
          assert.ok(page.items.length === 2 || page.nextCursor === undefined);
          seen.push(...page.items);
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        assert.equal(pages, Math.ceil(everything.items.length / 2));
        assert.deepEqual(
          seen.map((l) => l.id),
          everything.items.map((l) => l.id),
        );
        const names = seen.map((l) => l.name.toLowerCase());
        assert.deepEqual(names, [...names].sort());
        assert.ok(seen.every((l) => l.clientSecretSet && !('clientSecret' in l)));
      });

      it('refuses a cursor it did not issue with 422 field_invalid', async () => {
        await refused(
          call('GET', '/api/v1/links?cursor=not-a-cursor'),
          422,
          'field_invalid',
          'cursor',
        );
      });
    });

    describe('languages', () => {
      it('answers errors and warnings in Japanese for Accept-Language: ja', async () => {
        const name = `日本語 ${randomBytes(2).toString('hex')}`;
        await create(gmail({ name }));
        const headers = { ...(await outlink.adminHeaders()), 'accept-language': 'ja,en;q=0.5' };
        const dup = await call('POST', '/api/v1/links', gmail({ name }), headers);
        assert.equal(dup.statusCode, 409);
        assert.deepEqual(dup.json(), {
          error: {
            code: 'link_name_taken',
            message: ja.errors.link_name_taken.message.replace('{name}', name),
            remedy: ja.errors.link_name_taken.remedy,
            field: 'name',
          },
        });
        const warned = await call(
          'POST',
          '/api/v1/links',
          gmail({ scopes: ['https://mail.google.com'] }),
          headers,
        );
        assert.equal(warned.statusCode, 201);
        assert.deepEqual((warned.json() as LinkJson).warnings, [
          {
            code: 'scope_normalized',
            message: ja.warnings.scope_normalized
              .replace('{from}', 'https://mail.google.com')
              .replace('{to}', 'https://mail.google.com/'),
          },
        ]);
      });
    });

    it('never shows a client secret in any response or log line', () => {
      assert.ok(bodies.length > 40);
      assert.deepEqual(
        bodies.filter((b) => b.includes(MARKER)),
        [],
      );
      assert.deepEqual(
        outlink.logLines.filter((l) => l.includes(MARKER)),
        [],
      );
    });
  });
}
