import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

const BASE = 'https://localhost:8443';
const GOOGLE_AUTH = 'https://accounts.google.com/o/oauth2/v2/auth';
const MS = 'https://login.microsoftonline.com';
const redirectUrl = (endpoint: string) =>
  `${BASE}/oauth2/callback/${createHash('sha256').update(endpoint).digest('base64url').slice(0, 22)}`;
const exchange = (host: string) => ({
  imap: [`${host}IMAP.AccessAsUser.All`],
  pop3: [`${host}POP.AccessAsUser.All`],
  smtp: [`${host}SMTP.Send`],
});

for (const dialect of Dialects) {
  describe(`provider presets and redirect URLs on ${dialect}`, () => {
    let outlink: TestOutlink;
    let headers: Record<string, string>;

    before(async () => {
      outlink = await startOutlink(dialect);
      headers = await outlink.tokenHeaders();
    });
    after(async () => {
      await outlink?.close();
    });

    const get = (url: string, h: Record<string, string> = headers) =>
      outlink.app.inject({ method: 'GET', url, headers: h });

    it('lists the three presets with scopes per protocol and Google’s redirect URL', async () => {
      const res = await get('/api/v1/providers');
      assert.equal(res.statusCode, 200, res.body);
      const { items } = res.json() as { items: Record<string, unknown>[] };
      assert.deepEqual(
        items.map((p) => p.id),
        ['google', 'microsoft', 'custom'],
      );
      const [google, microsoft, custom] = items;
      assert.deepEqual(google, {
        id: 'google',
        name: 'Google',
        endpoints: {
          authorizationEndpoint: GOOGLE_AUTH,
          tokenEndpoint: 'https://oauth2.googleapis.com/token',
        },
        issuer: 'https://accounts.google.com',
        scopes: {
          imap: ['https://mail.google.com/'],
          pop3: ['https://mail.google.com/'],
          smtp: ['https://mail.google.com/'],
        },
        requiredScopes: [],
        authorizationParams: { access_type: 'offline', prompt: 'consent' },
        options: [],
        redirectUrl: redirectUrl(GOOGLE_AUTH),
      });
      assert.deepEqual(microsoft, {
        id: 'microsoft',
        name: 'Microsoft',
        endpoints: {
          authorizationEndpoint: `${MS}/common/oauth2/v2.0/authorize`,
          tokenEndpoint: `${MS}/common/oauth2/v2.0/token`,
        },
        issuer: null,
        scopes: exchange('https://outlook.office.com/'),
        scopesByCloud: {
          global: exchange('https://outlook.office.com/'),
          gcc: exchange('https://outlook.office365.com/'),
          gcc_high: exchange('https://outlook.office365.us/'),
          dod: exchange('https://outlook.office365.us/'),
          china: exchange('https://partner.outlook.cn/'),
        },
        endpointsByCloud: Object.fromEntries(
          [
            ['global', MS],
            ['gcc', MS],
            ['gcc_high', 'https://login.microsoftonline.us'],
            ['dod', 'https://login.microsoftonline.us'],
            ['china', 'https://login.chinacloudapi.cn'],
          ].map(([cloud, host]) => [
            cloud,
            {
              authorizationEndpoint: `${host}/common/oauth2/v2.0/authorize`,
              tokenEndpoint: `${host}/common/oauth2/v2.0/token`,
            },
          ]),
        ),
        requiredScopes: ['offline_access'],
        authorizationParams: {},
        options: ['tenant', 'cloud'],
        redirectUrl: redirectUrl(`${MS}/common/oauth2/v2.0/authorize`),
      });
      assert.equal(custom?.endpoints, null);
      assert.equal(custom?.scopes, null);
      assert.equal(custom?.redirectUrl, null, 'known only once an endpoint is typed');
    });

    it('gives the redirect URL for Google, Microsoft per tenant, and a custom endpoint', async () => {
      const cases: [string, string][] = [
        ['provider=google', GOOGLE_AUTH],
        ['provider=microsoft', `${MS}/common/oauth2/v2.0/authorize`],
        [
          'provider=microsoft&tenant=contoso.onmicrosoft.com',
          `${MS}/contoso.onmicrosoft.com/oauth2/v2.0/authorize`,
        ],
        [
          `provider=custom&authorizationEndpoint=${encodeURIComponent('https://as.example.test/authorize?x=1')}`,
          'https://as.example.test/authorize?x=1',
        ],
      ];
      for (const [query, endpoint] of cases) {
        const res = await get(`/api/v1/redirect-url?${query}`);
        assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
        assert.deepEqual(res.json(), { redirectUrl: redirectUrl(endpoint) }, query);
      }
    });

    it('refuses a custom provider without an endpoint, or with an http:// one, with 422', async () => {
      const missing = await get('/api/v1/redirect-url?provider=custom');
      assert.equal(missing.statusCode, 422);
      assert.equal(missing.json().error.code, 'field_required');
      assert.equal(missing.json().error.field, 'authorizationEndpoint');

      const http = await get(
        `/api/v1/redirect-url?provider=custom&authorizationEndpoint=${encodeURIComponent('http://as.example.test/authorize')}`,
      );
      assert.equal(http.statusCode, 422);
      assert.equal(http.json().error.code, 'endpoint_not_https');
      assert.equal(http.json().error.field, 'authorizationEndpoint');

      const unknown = await get('/api/v1/redirect-url?provider=yahoo');
      assert.equal(unknown.statusCode, 422);
      assert.equal(unknown.json().error.code, 'unknown_provider');
      assert.equal(unknown.json().error.field, 'provider');
    });

    it('requires authentication for both routes', async () => {
      for (const url of ['/api/v1/providers', '/api/v1/redirect-url?provider=google']) {
        const res = await get(url, {});
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.json().error.code, 'not_authenticated');
      }
    });
  });
}
