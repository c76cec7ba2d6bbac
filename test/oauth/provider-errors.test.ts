import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import en from '../../src/i18n/en.json' with { type: 'json' };
import ja from '../../src/i18n/ja.json' with { type: 'json' };
import {
  catalogIds,
  classifyProviderError,
  type FailureScope,
  FlowFailureIds,
  TransientIds,
} from '../../src/oauth/provider-errors.js';
import { parseRetryAfter } from '../../src/oauth/token-client.js';

type Case = [
  error: string,
  description: string | undefined,
  status: number,
  id: string,
  scope: FailureScope,
];

/** Answers as Microsoft's token endpoint words them (error, error_description). */
const MICROSOFT: Case[] = [
  [
    'invalid_client',
    "AADSTS7000222: The provided client secret keys for app '00000000-0000-0000-0000-000000000001' are expired. Visit the Azure portal to create new keys for your app.",
    401,
    'aadsts_7000222',
    'link',
  ],
  [
    'invalid_client',
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '00000000-0000-0000-0000-000000000001'.",
    401,
    'aadsts_7000215',
    'link',
  ],
  [
    'invalid_request',
    "AADSTS50011: The redirect URI 'https://outlink.example.test/oauth2/callback/abc' specified in the request does not match the redirect URIs configured for the application.",
    400,
    'aadsts_50011',
    'link',
  ],
  [
    'invalid_request',
    "AADSTS90002: Tenant 'contoso.example' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
    400,
    'aadsts_90002',
    'link',
  ],
  [
    'invalid_grant',
    'AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2025-09-01T00:00:00Z and was inactive for 90.00:00:00.',
    400,
    'aadsts_700082',
    'connection',
  ],
  [
    'invalid_grant',
    "AADSTS65001: The user or administrator has not consented to use the application with ID '00000000-0000-0000-0000-000000000001' named 'Outlink'.",
    400,
    'aadsts_65001',
    'connection',
  ],
  [
    'invalid_grant',
    'AADSTS70000: The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.',
    400,
    'aadsts_70000',
    'connection',
  ],
  [
    'invalid_grant',
    "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'.",
    400,
    'aadsts_50076',
    'connection',
  ],
  [
    'invalid_grant',
    'AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
    400,
    'aadsts_53003',
    'connection',
  ],
  // An AADSTS code outside the catalog falls back to the OAuth error it came with.
  [
    'invalid_grant',
    'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    400,
    'invalid_grant',
    'connection',
  ],
];

/** Answers as Google's token endpoint words them. */
const GOOGLE: Case[] = [
  [
    'invalid_grant',
    'Token has been expired or revoked.',
    400,
    'google_token_revoked',
    'connection',
  ],
  ['admin_policy_enforced', undefined, 400, 'admin_policy_enforced', 'connection'],
  ['invalid_grant', 'reauth related error (invalid_rapt)', 400, 'invalid_rapt', 'connection'],
  ['invalid_rapt', undefined, 400, 'invalid_rapt', 'connection'],
  ['redirect_uri_mismatch', 'Bad Request', 400, 'redirect_uri_mismatch', 'link'],
  ['invalid_grant', 'Bad Request', 400, 'invalid_grant', 'connection'],
  ['invalid_client', 'The OAuth client was not found.', 401, 'google_client_not_found', 'link'],
  ['invalid_client', 'Unauthorized', 401, 'invalid_client', 'link'],
  ['unauthorized_client', 'Unauthorized', 401, 'unauthorized_client', 'link'],
];

/** RFC 6749 §5.2 and HTTP-level answers. */
const GENERIC: Case[] = [
  ['invalid_client', 'client secret expired', 401, 'client_secret_expired', 'link'],
  ['invalid_scope', undefined, 400, 'invalid_scope', 'link'],
  ['access_denied', 'End-User aborted interaction', 400, 'access_denied', 'connection'],
  ['server_error', undefined, 500, 'server_error', 'transient'],
  ['temporarily_unavailable', undefined, 503, 'temporarily_unavailable', 'transient'],
  ['slow_down', undefined, 400, 'slow_down', 'transient'],
  ['', undefined, 502, TransientIds.http5xx, 'transient'],
  ['', undefined, 429, TransientIds.http429, 'transient'],
  ['something_new', undefined, 503, TransientIds.http5xx, 'transient'],
  ['something_new', 'never seen', 400, 'unknown_provider_error', 'connection'],
];

describe('classifyProviderError (DESIGN §7 catalog)', () => {
  for (const [group, cases] of [
    ['Microsoft', MICROSOFT],
    ['Google', GOOGLE],
    ['generic', GENERIC],
  ] as const) {
    for (const [error, description, status, id, scope] of cases) {
      it(`${group}: ${error || `HTTP ${status}`} ${description?.slice(0, 40) ?? ''} → ${id} (${scope})`, () => {
        assert.deepEqual(classifyProviderError(error, description, status), { id, scope });
      });
    }
  }

  it('marks only the link’s registration faults as the link’s', () => {
    const linkIds = [...MICROSOFT, ...GOOGLE, ...GENERIC]
      .filter((c) => c[4] === 'link')
      .map((c) => c[3])
      .sort();
    assert.deepEqual(
      [...new Set(linkIds)],
      [
        'aadsts_50011',
        'aadsts_7000215',
        'aadsts_7000222',
        'aadsts_90002',
        'client_secret_expired',
        'google_client_not_found',
        'invalid_client',
        'invalid_scope',
        'redirect_uri_mismatch',
        'unauthorized_client',
      ],
    );
  });

  it('covers every catalog id the DESIGN names', () => {
    for (const code of [
      '50011',
      '7000215',
      '7000222',
      '700082',
      '65001',
      '70000',
      '50076',
      '53003',
      '90002',
    ]) {
      assert.ok(catalogIds.includes(`aadsts_${code}`), code);
    }
    for (const id of [
      'google_token_revoked',
      'admin_policy_enforced',
      'invalid_rapt',
      'redirect_uri_mismatch',
    ]) {
      assert.ok(catalogIds.includes(id), id);
    }
    for (const id of [...Object.values(TransientIds), ...FlowFailureIds]) {
      assert.ok(catalogIds.includes(id), id);
    }
  });
});

describe('provider error texts in English and Japanese', () => {
  const catalogs = { en: en.providerErrors, ja: ja.providerErrors } as Record<
    'en' | 'ja',
    Record<string, { cause?: string; remedy?: string }>
  >;
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  for (const id of catalogIds) {
    it(`${id} has a cause and a remedy in both languages`, () => {
      const e = catalogs.en[id];
      const j = catalogs.ja[id];
      assert.ok(e?.cause && e.remedy, `en ${id}`);
      assert.ok(j?.cause && j.remedy, `ja ${id}`);
      assert.notEqual(j.cause, e.cause, `ja ${id} cause is untranslated`);
      assert.notEqual(j.remedy, e.remedy, `ja ${id} remedy is untranslated`);
      assert.match(j.cause, /[\u3040-\u30ff\u4e00-\u9fff]/);
      assert.deepEqual(placeholders(j.cause), placeholders(e.cause));
      assert.deepEqual(placeholders(j.remedy), placeholders(e.remedy));
    });
  }

  it('has no text for ids the catalog does not know', () => {
    assert.deepEqual(Object.keys(catalogs.en).sort(), [...catalogIds].sort());
    assert.deepEqual(Object.keys(catalogs.ja).sort(), [...catalogIds].sort());
  });

  it('tells a link fault to fix the link, not to re-authorize each mailbox', () => {
    for (const id of ['aadsts_7000222', 'invalid_client', 'client_secret_expired']) {
      assert.match(catalogs.en[id]?.remedy ?? '', /in the link/, id);
      assert.match(catalogs.en[id]?.remedy ?? '', /without re-authorizing/, id);
    }
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});
