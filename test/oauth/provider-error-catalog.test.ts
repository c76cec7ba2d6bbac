import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasMessage, translate } from '../../src/i18n/i18n.js';
import {
  catalogListing,
  classifyProviderError,
  sanitizeProviderText,
} from '../../src/oauth/provider-errors.js';
import { OAuthFailure } from '../../src/oauth/token-client.js';

/**
 * Every entry of the provider error catalog (issue 13 item 2, DESIGN §7): the answer it shows
 * in the troubleshooting guide is read back as that entry, and it has a cause and a remedy in
 * both languages.
 */

/** The codes and errors DESIGN §7 and issue 13 name, each with the entry it must reach. */
const REQUIRED: Readonly<Record<string, string>> = {
  '7000215': 'aadsts_7000215',
  '7000222': 'aadsts_7000222',
  '50011': 'aadsts_50011',
  '65001': 'aadsts_65001',
  '700082': 'aadsts_700082',
  '70008': 'aadsts_70008',
  '70000': 'aadsts_70000',
  '50076': 'aadsts_50076',
  '50079': 'aadsts_50079',
  '53003': 'aadsts_53003',
  '90002': 'aadsts_90002',
  '90072': 'aadsts_90072',
  '50020': 'aadsts_50020',
};
const REQUIRED_GOOGLE = [
  'google_token_revoked',
  'redirect_uri_mismatch',
  'access_denied',
  'admin_policy_enforced',
  'org_internal',
  'unauthorized_client',
  'invalid_client',
  'invalid_rapt',
];

describe('the provider error catalog, entry by entry', () => {
  for (const entry of catalogListing) {
    for (const example of entry.examples) {
      it(`${entry.provider} ${example.error} ${example.description?.slice(0, 40) ?? ''} → ${entry.id}`, () => {
        const found = classifyProviderError(example.error, example.description, 400);
        assert.deepEqual(found, { id: entry.id, scope: entry.scope });
      });
    }
    it(`${entry.id}: a cause and a remedy in English and Japanese, not the same text`, () => {
      for (const part of ['cause', 'remedy']) {
        const key = `providerErrors.${entry.id}.${part}`;
        assert.ok(hasMessage('en', key), key);
        assert.ok(hasMessage('ja', key), key);
        const en = translate('en', key);
        const ja = translate('ja', key);
        assert.ok(en.trim().length > 10 && ja.trim().length > 10, key);
        assert.notEqual(en, ja, key);
        // Japanese text, not an English copy.
        assert.match(ja, /[\u3040-\u30ff\u4e00-\u9fff]/, key);
      }
    });
  }

  it('has every AADSTS code DESIGN §7 and the issue name, read from the description', () => {
    for (const [code, id] of Object.entries(REQUIRED)) {
      const entry = catalogListing.find((e) => e.id === id);
      assert.ok(entry, id);
      assert.equal(entry.provider, 'microsoft');
      assert.equal(entry.code, code);
      assert.match(entry.examples[0]!.description ?? '', new RegExp(`^AADSTS${code}:`));
      // The AADSTS code decides, whatever OAuth error it came with.
      assert.equal(classifyProviderError('invalid_request', `AADSTS${code}: …`).id, id);
    }
  });

  it('has the Google errors the issue names', () => {
    for (const id of REQUIRED_GOOGLE)
      assert.ok(
        catalogListing.some((e) => e.id === id),
        id,
      );
  });

  it("names the secret's ID in the AADSTS7000215 cause, in both languages", () => {
    assert.match(translate('en', 'providerErrors.aadsts_7000215.cause'), /secret's ID/);
    assert.match(translate('ja', 'providerErrors.aadsts_7000215.cause'), /シークレット ID/);
  });
});

describe("a provider's words as Outlink keeps them", () => {
  it('escape sequences and control characters become spaces, and the text is cut at 500 characters', () => {
    assert.equal(
      sanitizeProviderText('AADSTS7000215: Invalid\r\nforged: line\u001b[31m red\u2028'),
      'AADSTS7000215: Invalid forged: line red',
    );
    const long = sanitizeProviderText('x'.repeat(600));
    assert.equal([...long].length, 500);
    assert.ok(long.endsWith('…'));
  });

  it('an OAuthFailure keeps the description sanitized', () => {
    const failure = new OAuthFailure({
      entry: { id: 'invalid_client', scope: 'link' },
      error: 'invalid_client',
      description: 'bad\nsecret',
    });
    assert.equal(failure.description, 'bad secret');
  });
});
