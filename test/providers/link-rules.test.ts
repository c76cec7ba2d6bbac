import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlinkError } from '../../src/domain/errors.js';
import {
  applyProviderRules,
  assertIssuer,
  baseUrlWarnings,
  type RequestedLinkSettings,
} from '../../src/providers/link-rules.js';

const GMAIL = 'https://mail.google.com/';
const OUTLOOK = 'https://outlook.office.com/';
const OUTLOOK_GCC = 'https://outlook.office365.com/';
const MS = 'https://login.microsoftonline.com';

/** Asserts that `fn` throws the catalog error `code` naming `field` (when given). */
function refuses(fn: () => unknown, code: string, field?: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OutlinkError, String(error));
    assert.equal(error.code, code);
    if (field !== undefined) assert.equal(error.details?.field, field);
    return true;
  });
}

const codes = (warnings: { code: string }[]) => warnings.map((w) => w.code);

describe('provider rules: Google', () => {
  it('fills the preset endpoints, issuer and mail scope', () => {
    const { settings, warnings } = applyProviderRules({ provider: 'google' });
    assert.deepEqual(settings, {
      provider: 'google',
      scopes: [GMAIL],
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      issuer: 'https://accounts.google.com',
      tenant: null,
      cloud: null,
      clientAuthMethod: 'client_secret_post',
    });
    assert.deepEqual(warnings, []);
  });

  it('normalises the mail scope without a trailing slash and says so', () => {
    const { settings, warnings } = applyProviderRules({
      provider: 'google',
      scopes: ['https://mail.google.com', 'openid'],
    });
    assert.deepEqual(settings.scopes, [GMAIL, 'openid']);
    assert.deepEqual(warnings, [
      { code: 'scope_normalized', params: { from: 'https://mail.google.com', to: GMAIL } },
    ]);
  });

  it('collapses a normalised scope into an existing one', () => {
    const { settings } = applyProviderRules({
      provider: 'google',
      scopes: [GMAIL, 'https://mail.google.com'],
    });
    assert.deepEqual(settings.scopes, [GMAIL]);
  });

  it('refuses tenant, cloud and issuer, which only other providers have', () => {
    refuses(
      () => applyProviderRules({ provider: 'google', tenant: 'common' }),
      'field_not_applicable',
      'tenant',
    );
    refuses(
      () => applyProviderRules({ provider: 'google', cloud: 'gcc' }),
      'field_not_applicable',
      'cloud',
    );
    refuses(
      () => applyProviderRules({ provider: 'google', issuer: 'https://accounts.google.com' }),
      'field_not_applicable',
      'issuer',
    );
  });
});

describe('provider rules: Microsoft', () => {
  it('defaults to tenant common and the global cloud, adding offline_access', () => {
    const { settings, warnings } = applyProviderRules({ provider: 'microsoft' });
    assert.equal(settings.tenant, 'common');
    assert.equal(settings.cloud, 'global');
    assert.equal(settings.authorizationEndpoint, `${MS}/common/oauth2/v2.0/authorize`);
    assert.equal(settings.tokenEndpoint, `${MS}/common/oauth2/v2.0/token`);
    assert.equal(settings.issuer, null);
    assert.deepEqual(settings.scopes, [
      `${OUTLOOK}IMAP.AccessAsUser.All`,
      `${OUTLOOK}POP.AccessAsUser.All`,
      `${OUTLOOK}SMTP.Send`,
      'offline_access',
    ]);
    assert.deepEqual(warnings, [
      { code: 'offline_access_added', params: { scope: 'offline_access' } },
    ]);
  });

  it('puts the tenant into the endpoints, escaped', () => {
    const { settings } = applyProviderRules({
      provider: 'microsoft',
      tenant: '11111111-2222-3333-4444-555555555555',
    });
    assert.equal(
      settings.tokenEndpoint,
      `${MS}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token`,
    );
  });

  it('moves Exchange scopes to the gcc host, each with a warning, leaving others alone', () => {
    const { settings, warnings } = applyProviderRules({
      provider: 'microsoft',
      cloud: 'gcc',
      scopes: [
        `${OUTLOOK}IMAP.AccessAsUser.All`,
        `${OUTLOOK}SMTP.Send`,
        'offline_access',
        'openid',
      ],
    });
    assert.deepEqual(settings.scopes, [
      `${OUTLOOK_GCC}IMAP.AccessAsUser.All`,
      `${OUTLOOK_GCC}SMTP.Send`,
      'offline_access',
      'openid',
    ]);
    assert.deepEqual(codes(warnings), ['scope_cloud_adjusted', 'scope_cloud_adjusted']);
    assert.deepEqual(warnings[0]?.params, {
      from: `${OUTLOOK}IMAP.AccessAsUser.All`,
      to: `${OUTLOOK_GCC}IMAP.AccessAsUser.All`,
      cloud: 'gcc',
    });
  });

  it('moves gcc scopes back for the global cloud', () => {
    const { settings } = applyProviderRules({
      provider: 'microsoft',
      cloud: 'global',
      scopes: [`${OUTLOOK_GCC}POP.AccessAsUser.All`, 'offline_access'],
    });
    assert.deepEqual(settings.scopes, [`${OUTLOOK}POP.AccessAsUser.All`, 'offline_access']);
  });

  it('keeps typed endpoints over the tenant preset', () => {
    const { settings } = applyProviderRules({
      provider: 'microsoft',
      tenant: 'common',
      authorizationEndpoint: 'https://login.microsoftonline.us/common/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.us/common/oauth2/v2.0/token',
    });
    assert.equal(
      settings.authorizationEndpoint,
      'https://login.microsoftonline.us/common/oauth2/v2.0/authorize',
    );
  });

  it('refuses an issuer', () => {
    refuses(
      () =>
        applyProviderRules({
          provider: 'microsoft',
          issuer: 'https://login.microsoftonline.com/x/v2.0',
        }),
      'field_not_applicable',
      'issuer',
    );
  });
});

describe('provider rules: custom', () => {
  const custom = (overrides: Partial<RequestedLinkSettings> = {}): RequestedLinkSettings => ({
    provider: 'custom',
    authorizationEndpoint: 'https://as.example.test/authorize',
    tokenEndpoint: 'https://as.example.test/token',
    scopes: ['openid', 'mail'],
    ...overrides,
  });

  it('keeps the endpoints, issuer and client authentication it is given', () => {
    const { settings, warnings } = applyProviderRules(
      custom({ issuer: 'https://as.example.test', clientAuthMethod: 'client_secret_basic' }),
    );
    assert.equal(settings.issuer, 'https://as.example.test');
    assert.equal(settings.clientAuthMethod, 'client_secret_basic');
    assert.equal(settings.tenant, null);
    assert.equal(settings.cloud, null);
    assert.deepEqual(warnings, []);
  });

  it('needs both endpoints', () => {
    refuses(
      () => applyProviderRules(custom({ authorizationEndpoint: undefined })),
      'endpoints_required',
    );
    refuses(() => applyProviderRules(custom({ tokenEndpoint: undefined })), 'endpoints_required');
  });

  it('needs https endpoints without fragment or credentials', () => {
    refuses(
      () => applyProviderRules(custom({ authorizationEndpoint: 'http://as.example.test/a' })),
      'endpoint_not_https',
      'authorizationEndpoint',
    );
    refuses(
      () => applyProviderRules(custom({ tokenEndpoint: 'http://as.example.test/t' })),
      'endpoint_not_https',
      'tokenEndpoint',
    );
    refuses(
      () => applyProviderRules(custom({ tokenEndpoint: 'https://as.example.test/t#frag' })),
      'field_invalid',
      'tokenEndpoint',
    );
    refuses(
      () => applyProviderRules(custom({ authorizationEndpoint: 'https://u:p@as.example.test/a' })),
      'field_invalid',
      'authorizationEndpoint',
    );
    // A query is allowed in endpoints (RFC 6749 §3.1).
    assert.ok(
      applyProviderRules(custom({ authorizationEndpoint: 'https://as.example.test/a?x=1' })),
    );
  });

  it('needs at least one scope after trimming', () => {
    refuses(() => applyProviderRules(custom({ scopes: [] })), 'scopes_empty', 'scopes');
    refuses(() => applyProviderRules(custom({ scopes: [' ', ''] })), 'scopes_empty', 'scopes');
    refuses(() => applyProviderRules(custom({ scopes: undefined })), 'scopes_empty', 'scopes');
  });

  it('refuses tenant and cloud', () => {
    refuses(
      () => applyProviderRules(custom({ tenant: 'common' })),
      'field_not_applicable',
      'tenant',
    );
    refuses(() => applyProviderRules(custom({ cloud: 'global' })), 'field_not_applicable', 'cloud');
  });
});

describe('issuer identifiers (RFC 8414 §2)', () => {
  it('accepts an https URL with a path', () => {
    assertIssuer('https://as.example.test');
    assertIssuer('https://as.example.test/tenant/v2.0');
  });

  it('refuses http, a query, a fragment and credentials', () => {
    refuses(() => assertIssuer('http://as.example.test'), 'endpoint_not_https', 'issuer');
    refuses(() => assertIssuer('https://as.example.test/?tenant=1'), 'field_invalid', 'issuer');
    refuses(() => assertIssuer('https://as.example.test/#x'), 'field_invalid', 'issuer');
    refuses(() => assertIssuer('https://u:p@as.example.test'), 'field_invalid', 'issuer');
  });
});

describe('base URL warnings', () => {
  it('warns for Google when the base URL host is an IPv4 or IPv6 literal', () => {
    assert.deepEqual(baseUrlWarnings('google', new URL('https://192.0.2.10:8443')), [
      { code: 'redirect_host_ip_literal', params: { host: '192.0.2.10' } },
    ]);
    assert.deepEqual(codes(baseUrlWarnings('google', new URL('https://[2001:db8::1]:8443'))), [
      'redirect_host_ip_literal',
    ]);
  });

  it('does not warn for localhost, a DNS name, or other providers', () => {
    assert.deepEqual(baseUrlWarnings('google', new URL('https://localhost:8443')), []);
    assert.deepEqual(baseUrlWarnings('google', new URL('https://outlink.example.test')), []);
    assert.deepEqual(baseUrlWarnings('microsoft', new URL('https://192.0.2.10')), []);
    assert.deepEqual(baseUrlWarnings('custom', new URL('https://192.0.2.10')), []);
  });
});
