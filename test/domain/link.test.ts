import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  callbackSuffix,
  cleanScopes,
  isIpLiteralHost,
  redirectUrlFor,
} from '../../src/domain/link.js';

const GOOGLE_AUTH = 'https://accounts.google.com/o/oauth2/v2/auth';

describe('redirect URL (DESIGN §4)', () => {
  it('is the base URL, /oauth2/callback/ and 22 characters of base64url(SHA-256(endpoint))', () => {
    const digest = createHash('sha256').update(GOOGLE_AUTH, 'utf8').digest();
    const expected = digest
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
      .slice(0, 22);
    assert.equal(callbackSuffix(GOOGLE_AUTH), expected);
    assert.equal(
      redirectUrlFor(new URL('https://localhost:8443'), GOOGLE_AUTH),
      `https://localhost:8443/oauth2/callback/${expected}`,
    );
  });

  it('is 22 URL-safe characters for any endpoint, and differs per endpoint', () => {
    const suffixes = new Set<string>();
    for (const tenant of ['common', 'organizations', 'contoso.onmicrosoft.com']) {
      const suffix = callbackSuffix(
        `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`,
      );
      assert.match(suffix, /^[A-Za-z0-9_-]{22}$/);
      suffixes.add(suffix);
    }
    assert.equal(suffixes.size, 3);
  });

  it('keeps a base path and never doubles the slash', () => {
    const suffix = callbackSuffix(GOOGLE_AUTH);
    for (const base of [
      'https://mail.example.test/outlink',
      'https://mail.example.test/outlink/',
    ]) {
      assert.equal(
        redirectUrlFor(new URL(base), GOOGLE_AUTH),
        `https://mail.example.test/outlink/oauth2/callback/${suffix}`,
      );
    }
    assert.equal(
      redirectUrlFor(new URL('https://192.0.2.10:8443/'), GOOGLE_AUTH),
      `https://192.0.2.10:8443/oauth2/callback/${suffix}`,
    );
  });
});

describe('cleanScopes', () => {
  it('trims, drops empties and keeps the first of duplicates in order', () => {
    assert.deepEqual(cleanScopes([' b ', 'a', '', 'b', '  ', 'a ', 'c']), ['b', 'a', 'c']);
  });

  it('is case-sensitive, as scope tokens are (RFC 6749 §3.3)', () => {
    assert.deepEqual(cleanScopes(['Mail', 'mail']), ['Mail', 'mail']);
  });

  it('gives an empty list for nothing usable', () => {
    assert.deepEqual(cleanScopes([]), []);
    assert.deepEqual(cleanScopes(['', ' ']), []);
  });
});

describe('isIpLiteralHost', () => {
  for (const host of [
    '192.0.2.10',
    '127.0.0.1',
    '10.1.2.3',
    '[2001:db8::1]',
    '2001:db8::1',
    '[::1]',
  ]) {
    it(`${host} is an IP literal`, () => assert.equal(isIpLiteralHost(host), true));
  }
  for (const host of [
    'localhost',
    'mail.example.test',
    '192.0.2.example.test',
    'a1.2.3.4',
    '1.2.3',
  ]) {
    it(`${host} is not`, () => assert.equal(isIpLiteralHost(host), false));
  }
  it('agrees with how URL parses a base URL host', () => {
    assert.equal(isIpLiteralHost(new URL('https://[2001:db8::1]:8443').hostname), true);
    assert.equal(isIpLiteralHost(new URL('https://192.0.2.10:8443').hostname), true);
    assert.equal(isIpLiteralHost(new URL('https://localhost:8443').hostname), false);
  });
});
