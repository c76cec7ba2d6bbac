import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AuthorizationFailure,
  accountOf,
  createAuthorizationRequest,
  validateCallback,
} from '../../src/oauth/authorization-request.js';
import type { OAuthLink } from '../../src/oauth/token-client.js';

const ISSUER = 'https://as.example';

const link = (issuer: string | null = ISSUER): OAuthLink => ({
  id: 'link-1',
  clientId: 'client-1',
  clientSecret: 'secret-1',
  clientAuthMethod: 'client_secret_post',
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
  issuer,
});

/** The failure `work` throws, for its reason. */
function failureOf(work: () => unknown): AuthorizationFailure['reason'] {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof AuthorizationFailure, String(error));
    return error.reason;
  }
  assert.fail('no failure');
}

describe('authorization request (RFC 6749 §4.1.1, RFC 7636)', () => {
  it('asks for a code with the client, redirect URL, scopes, state and an S256 challenge', async () => {
    const request = await createAuthorizationRequest({
      authorizationEndpoint: `${ISSUER}/authorize?tenant=x`,
      clientId: 'client-1',
      redirectUri: 'https://outlink.example/oauth2/callback/abc',
      scopes: ['https://mail.example/', 'email'],
    });
    const url = new URL(request.url);
    assert.equal(url.origin + url.pathname, `${ISSUER}/authorize`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      tenant: 'x',
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'https://outlink.example/oauth2/callback/abc',
      scope: 'https://mail.example/ email',
      state: request.state,
      code_challenge: createHash('sha256').update(request.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    assert.equal(request.nonce, undefined, 'a nonce without openid');
    // RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
    assert.match(request.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
    const again = await createAuthorizationRequest({
      authorizationEndpoint: `${ISSUER}/authorize`,
      clientId: 'client-1',
      redirectUri: 'https://outlink.example/cb',
      scopes: ['x'],
    });
    assert.notEqual(again.state, request.state);
    assert.notEqual(again.codeVerifier, request.codeVerifier);
  });

  it('adds a nonce for openid, prompt=consent for offline_access, and the preset’s parameters', async () => {
    const request = await createAuthorizationRequest({
      authorizationEndpoint: `${ISSUER}/authorize`,
      clientId: 'client-1',
      redirectUri: 'https://outlink.example/cb',
      scopes: ['openid', 'offline_access'],
      extraParameters: { access_type: 'offline', prompt: 'select_account' },
    });
    const params = new URL(request.url).searchParams;
    assert.ok(request.nonce);
    assert.equal(params.get('nonce'), request.nonce);
    assert.equal(params.get('access_type'), 'offline');
    // The preset's parameters come last and win.
    assert.equal(params.get('prompt'), 'select_account');
  });
});

describe('authorization response (RFC 6749 §4.1.2, RFC 9207)', () => {
  const answer = (query: Record<string, string>) => new URLSearchParams(query);

  it('accepts the code with the state sent and the expected iss, and returns that iss', () => {
    const valid = validateCallback(link(), answer({ code: 'c', state: 's', iss: ISSUER }), {
      state: 's',
      issRequired: true,
    });
    assert.equal(valid.parameters.get('code'), 'c');
    assert.equal(valid.iss, ISSUER);
    const noIss = validateCallback(link(), answer({ code: 'c', state: 's' }), {
      state: 's',
      issRequired: false,
    });
    assert.equal(noIss.iss, undefined);
  });

  it('refuses a missing iss once required, and a foreign one always', () => {
    const expected = { state: 's', issRequired: true };
    assert.deepEqual(
      failureOf(() => validateCallback(link(), answer({ code: 'c', state: 's' }), expected)),
      { id: 'iss_missing' },
    );
    assert.deepEqual(
      failureOf(() =>
        validateCallback(link(), answer({ code: 'c', state: 's', iss: 'https://evil' }), {
          state: 's',
          issRequired: false,
        }),
      ),
      { id: 'iss_mismatch' },
    );
  });

  it('turns error=access_denied into a failure with the provider’s words', () => {
    const reason = failureOf(() =>
      validateCallback(
        link(null),
        answer({ error: 'access_denied', error_description: 'The user said no.', state: 's' }),
        { state: 's', issRequired: false },
      ),
    );
    assert.deepEqual(reason, {
      id: 'access_denied',
      error: 'access_denied',
      description: 'The user said no.',
    });
  });

  it('refuses an answer that is not a code response (implicit id_token) as callback_invalid', () => {
    const reason = failureOf(() =>
      validateCallback(link(), answer({ id_token: 'x.y.z', state: 's', iss: ISSUER }), {
        state: 's',
        issRequired: false,
      }),
    );
    assert.equal(reason.id, 'callback_invalid');
    assert.ok(reason.params?.detail);
  });
});

describe('the account an ID token names (OpenID Connect Core §5.1)', () => {
  it('takes email, then preferred_username, then sub, skipping empty values', () => {
    assert.equal(accountOf({ email: 'a@x', preferred_username: 'p', sub: 's' }), 'a@x');
    assert.equal(accountOf({ email: '', preferred_username: 'p', sub: 's' }), 'p');
    assert.equal(accountOf({ sub: 's', email: 42 }), 's');
    assert.equal(accountOf({}), undefined);
    assert.equal(accountOf(undefined), undefined);
  });
});
