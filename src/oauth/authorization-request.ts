import * as oauth from 'oauth4webapi';
import {
  classifyProviderError,
  type FlowFailureId,
  sanitizeProviderText,
} from './provider-errors.js';
import {
  authorizationCodeGrant,
  authorizationServerOf,
  OAuthFailure,
  type OAuthLink,
  type TokenClientDeps,
  type TokenSet,
} from './token-client.js';

/**
 * Why an authorization failed: an id of the provider error catalog (`providerErrors.<id>`),
 * its parameters, and what the provider said (`error`, `error_description`).
 */
export interface AuthorizationFailureReason {
  readonly id: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly description?: string;
}

/** An authorization that cannot succeed, for a reason the catalog names. */
export class AuthorizationFailure extends Error {
  constructor(readonly reason: AuthorizationFailureReason) {
    super(reason.id);
    this.name = 'AuthorizationFailure';
  }
}

/** Throws the failure `id` (one Outlink finds itself, not one the provider reported). */
export function failAuthorization(id: FlowFailureId, params?: Record<string, string>): never {
  throw new AuthorizationFailure(params ? { id, params } : { id });
}

export interface AuthorizationRequestInput {
  readonly authorizationEndpoint: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** The provider preset's own parameters (DESIGN §5: Google's `access_type=offline` …). */
  readonly extraParameters?: Readonly<Record<string, string>>;
}

/** A request ready to send the browser to, and the secrets its callback is checked against. */
export interface AuthorizationRequest {
  readonly url: string;
  readonly state: string;
  readonly codeVerifier: string;
  /** Sent only when `openid` is among the scopes. */
  readonly nonce: string | undefined;
}

/**
 * The authorization request of the code grant (RFC 6749 §4.1.1) with PKCE S256
 * (RFC 7636 §4.1–4.3), a fresh `state`, and for OpenID scopes a `nonce`
 * (OpenID Connect Core §3.1.2.1).
 */
export async function createAuthorizationRequest(
  input: AuthorizationRequestInput,
): Promise<AuthorizationRequest> {
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const nonce = input.scopes.includes('openid') ? oauth.generateRandomNonce() : undefined;
  const url = new URL(input.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('scope', input.scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (nonce) url.searchParams.set('nonce', nonce);
  // OpenID Connect Core §11: offline_access is ignored unless consent is prompted.
  if (input.scopes.includes('offline_access')) url.searchParams.set('prompt', 'consent');
  for (const [k, v] of Object.entries(input.extraParameters ?? {})) url.searchParams.set(k, v);
  return { url: url.href, state, codeVerifier, nonce };
}

/** A callback that passed the checks: the parameters to exchange, and the `iss` it carried. */
export interface ValidCallback {
  readonly parameters: URLSearchParams;
  readonly iss: string | undefined;
}

/**
 * The authorization response (RFC 6749 §4.1.2): the provider's `error=` answer (§4.1.2.1)
 * becomes a failure with its words; `state` must be the one sent; `iss` (RFC 9207) must be
 * the link's issuer when it sends one, and must be sent once the link has seen one
 * (`issRequired`). Anything but a code response (implicit, hybrid, JARM) is refused.
 */
export function validateCallback(
  link: OAuthLink,
  parameters: URLSearchParams,
  expected: { readonly state: string; readonly issRequired: boolean },
): ValidCallback {
  const iss = parameters.get('iss') ?? undefined;
  if (expected.issRequired && iss === undefined) failAuthorization('iss_missing');
  // RFC 9207 §2.4: an `iss` that is not the expected issuer is refused before anything else.
  if (link.issuer && iss !== undefined && iss !== link.issuer) failAuthorization('iss_mismatch');
  try {
    const valid = oauth.validateAuthResponse(
      authorizationServerOf(link, link.issuer ?? iss),
      { client_id: link.clientId },
      parameters,
      expected.state,
    );
    return { parameters: valid, iss };
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      const entry = classifyProviderError(error.error, error.error_description);
      throw new AuthorizationFailure({
        id: entry.id,
        error: error.error,
        ...(error.error_description
          ? { description: sanitizeProviderText(error.error_description) }
          : {}),
      });
    }
    if (
      error instanceof oauth.OperationProcessingError ||
      error instanceof oauth.UnsupportedOperationError
    ) {
      failAuthorization('callback_invalid', { detail: error.message.slice(0, 200) });
    }
    throw error;
  }
}

export interface CodeExchange {
  readonly callback: ValidCallback;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  readonly nonce: string | undefined;
  /** The provider's rule for the issuer of its ID tokens (see `ProviderPreset`). */
  readonly idTokenIssuer?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
}

/**
 * Exchanges the code for tokens (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5)
 * and validates the ID token (OpenID Connect Core §3.1.3.7). An ID token that fails its
 * checks is an `id_token_invalid`; the token endpoint's refusals are `OAuthFailure`s.
 */
export async function exchangeCode(
  deps: TokenClientDeps,
  link: OAuthLink,
  exchange: CodeExchange,
): Promise<TokenSet> {
  if (!exchange.callback.parameters.get('code')) failAuthorization('code_missing');
  try {
    return await authorizationCodeGrant(deps, link, {
      callbackParameters: exchange.callback.parameters,
      redirectUri: exchange.redirectUri,
      codeVerifier: exchange.codeVerifier,
      nonce: exchange.nonce,
      issuer: link.issuer ?? exchange.callback.iss,
      idTokenIssuer: exchange.idTokenIssuer,
    });
  } catch (error) {
    if (error instanceof OAuthFailure && error.cause instanceof oauth.OperationProcessingError) {
      const code = error.cause.code;
      if (
        code === oauth.JWT_CLAIM_COMPARISON ||
        code === oauth.JWT_TIMESTAMP_CHECK ||
        code === oauth.INVALID_RESPONSE
      ) {
        if (error.status === undefined || error.status === 200)
          failAuthorization('id_token_invalid', { detail: error.cause.message.slice(0, 200) });
      }
    }
    throw error;
  }
}

/**
 * Who signed in, as a key that another account cannot take by sharing an email claim: the
 * provider's own rule, else the ID token's `iss` and `sub` (OpenID Connect Core §2: `sub` is
 * unique and never reassigned within the issuer). Undefined without an ID token.
 */
export function accountIdentityOf(
  claims: Readonly<Record<string, unknown>> | undefined,
  rule?: (claims: Readonly<Record<string, unknown>>) => string | undefined,
): string | undefined {
  if (!claims) return undefined;
  const own = rule?.(claims);
  if (own) return own;
  const { iss, sub } = claims;
  return typeof iss === 'string' && typeof sub === 'string' && sub ? `${iss} ${sub}` : undefined;
}

/** The identity of an account known only by the label the administrator gave it. */
export function labelIdentity(label: string): string {
  return `label:${label.toLowerCase()}`;
}

/**
 * The account that signed in, as the ID token names it: `email`, else `preferred_username`,
 * else `sub` (OpenID Connect Core §5.1). Undefined without an ID token.
 */
export function accountOf(
  claims: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  if (!claims) return undefined;
  return [claims.email, claims.preferred_username, claims.sub].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
}
