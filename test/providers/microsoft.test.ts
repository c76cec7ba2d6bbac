import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyProviderError } from '../../src/oauth/provider-errors.js';
import { expectedIdTokenIssuer } from '../../src/oauth/token-client.js';
import { MICROSOFT_ERRORS, microsoftIdTokenIssuer } from '../../src/providers/microsoft.js';

const TID = '9188040d-6c67-4c5b-b112-36a304b66dad';

describe('Microsoft ID token issuer', () => {
  it('is the v2.0 issuer of the tenant the token names', () => {
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID, iss: 'https://attacker.example.test' }),
      `https://login.microsoftonline.com/${TID}/v2.0`,
    );
    assert.equal(
      microsoftIdTokenIssuer({ tid: TID.toUpperCase() }),
      `https://login.microsoftonline.com/${TID}/v2.0`,
    );
  });

  it('is undefined for a token without a tenant id, or with something else in tid', () => {
    assert.equal(microsoftIdTokenIssuer({}), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: 'common' }), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: `${TID}/../x` }), undefined);
    assert.equal(microsoftIdTokenIssuer({ tid: 42 }), undefined);
  });
});

describe('expectedIdTokenIssuer', () => {
  it('takes the token’s own iss when the provider has no rule', () => {
    assert.equal(
      expectedIdTokenIssuer({ iss: 'https://as.example.test' }),
      'https://as.example.test',
    );
    assert.equal(expectedIdTokenIssuer({ iss: 7 }), undefined);
    assert.equal(expectedIdTokenIssuer(undefined), undefined);
  });

  it('follows the provider’s rule, and names no real issuer when the rule finds none', () => {
    const claims = { iss: `https://login.microsoftonline.com/${TID}/v2.0`, tid: TID };
    assert.equal(expectedIdTokenIssuer(claims, microsoftIdTokenIssuer), claims.iss);
    const forged = { iss: 'https://attacker.example.test', tid: TID };
    assert.notEqual(expectedIdTokenIssuer(forged, microsoftIdTokenIssuer), forged.iss);
    const expected = expectedIdTokenIssuer(
      { iss: 'https://x.example.test' },
      microsoftIdTokenIssuer,
    );
    assert.ok(expected?.startsWith('urn:outlink:'));
  });
});

describe('Microsoft error codes (AADSTS)', () => {
  it('reads the first AADSTS code of the description', () => {
    const codeOf = MICROSOFT_ERRORS.codeOf;
    assert.ok(codeOf);
    assert.equal(
      codeOf('AADSTS700082: The refresh token has expired due to inactivity.'),
      '700082',
    );
    assert.equal(codeOf('AADSTS50011: The redirect URI … (see AADSTS90002)'), '50011');
    assert.equal(codeOf('Token has been expired or revoked.'), undefined);
  });

  it('lets a known code beat any wording, Google’s included', () => {
    assert.deepEqual(
      classifyProviderError(
        'invalid_grant',
        'AADSTS700082: Token has been expired or revoked.',
        400,
      ),
      { id: 'aadsts_700082', scope: 'connection' },
    );
    // An unknown code leaves the wording to decide.
    assert.deepEqual(
      classifyProviderError('invalid_grant', 'AADSTS1: Token has been expired or revoked.', 400),
      { id: 'google_token_revoked', scope: 'connection' },
    );
  });
});
