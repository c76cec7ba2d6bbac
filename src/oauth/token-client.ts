import * as oauth from 'oauth4webapi';
import type { Clock } from '../domain/clock.js';
import { deadline } from '../net/deadline.js';
import { cappedFetch, ResponseTooLargeError } from './capped-fetch.js';
import type { Fetch } from './discovery.js';
import {
  type CatalogEntry,
  classifyProviderError,
  type FailureScope,
  sanitizeProviderText,
  TransientIds,
} from './provider-errors.js';

/** What the OAuth client needs to know about a link. */
export interface OAuthLink {
  readonly id: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuthMethod: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** The issuer the link or connection expects (RFC 9207, ID token `iss`). */
  readonly issuer: string | null;
}

/** A token endpoint answer, normalised. */
export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly tokenType: string;
  readonly expiresAt: Date | undefined;
  /** Granted scopes, when the server said (RFC 6749 §5.1: else the requested ones). */
  readonly scopes: readonly string[] | undefined;
  readonly idTokenClaims: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A failed token request, classified by the provider error catalog. The provider's own
 * `error` and `error_description` are kept for the administrator; nothing of the request.
 */
export class OAuthFailure extends Error {
  readonly entry: CatalogEntry;
  readonly error: string | undefined;
  readonly description: string | undefined;
  readonly status: number | undefined;
  /** From `Retry-After` (RFC 9110 §10.2.3), when the provider sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    entry: CatalogEntry;
    error?: string;
    description?: string;
    status?: number;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(
      `${init.entry.id}${init.error ? ` (${init.error}${init.description ? `: ${init.description}` : ''})` : ''}`,
      { cause: init.cause },
    );
    this.name = 'OAuthFailure';
    this.entry = init.entry;
    this.error = init.error;
    this.description =
      init.description === undefined ? undefined : sanitizeProviderText(init.description);
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }

  get scope(): FailureScope {
    return this.entry.scope;
  }
}

export interface TokenClientDeps {
  readonly fetch: Fetch;
  readonly clock: Clock;
  /** Per token request; a silent provider must not hang a refresh. */
  readonly timeoutMs: number;
}

/** The authorization server metadata oauth4webapi works from. */
export function authorizationServerOf(link: OAuthLink, issuer?: string): oauth.AuthorizationServer {
  return {
    // oauth4webapi compares `iss` values with this; without a known issuer there is none to
    // compare, and a URN that no server can send keeps such checks failing closed.
    issuer: issuer ?? link.issuer ?? `urn:outlink:link:${link.id}`,
    authorization_endpoint: link.authorizationEndpoint,
    token_endpoint: link.tokenEndpoint,
  };
}

function clientOf(link: OAuthLink): oauth.Client {
  return { client_id: link.clientId };
}

function clientAuthOf(link: OAuthLink): oauth.ClientAuth {
  return link.clientAuthMethod === 'client_secret_basic'
    ? oauth.ClientSecretBasic(link.clientSecret)
    : oauth.ClientSecretPost(link.clientSecret);
}

/**
 * A token request's options: Outlink's capped fetch, and a signal that aborts after
 * `timeoutMs` (a real timer, not the injected clock: the request takes real time). `done()`
 * clears the timer when the call settles (`deadline`).
 */
function requestOptions(deps: TokenClientDeps): {
  readonly options: oauth.TokenEndpointRequestOptions;
  done(): void;
} {
  const timeout = deadline(deps.timeoutMs);
  return {
    options: { [oauth.customFetch]: cappedFetch(deps.fetch), signal: timeout.signal },
    done: timeout.clear,
  };
}

/**
 * RFC 6749 §6: the refresh token grant. Classifies every failure; never retries (the token
 * service decides about retries, since it owns the backoff state).
 */
export async function refreshGrant(
  deps: TokenClientDeps,
  link: OAuthLink,
  refreshToken: string,
): Promise<TokenSet> {
  const as = authorizationServerOf(link);
  const client = clientOf(link);
  let response: Response | undefined;
  const request = requestOptions(deps);
  try {
    response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuthOf(link),
      refreshToken,
      request.options,
    );
    const result = await oauth.processRefreshTokenResponse(as, client, response);
    return toTokenSet(deps.clock, result);
  } catch (error) {
    throw toFailure(error, response, deps.clock.now());
  } finally {
    request.done();
  }
}

/**
 * RFC 7009 §2.1: revokes a refresh token (and, at most providers, its grant) at
 * `revocationEndpoint`, authenticated as the link's client. Throws an `OAuthFailure`.
 */
export async function revokeRefreshToken(
  deps: TokenClientDeps,
  link: OAuthLink,
  revocationEndpoint: string,
  refreshToken: string,
): Promise<void> {
  const as = { ...authorizationServerOf(link), revocation_endpoint: revocationEndpoint };
  let response: Response | undefined;
  const request = requestOptions(deps);
  try {
    response = await oauth.revocationRequest(as, clientOf(link), clientAuthOf(link), refreshToken, {
      ...request.options,
      additionalParameters: { token_type_hint: 'refresh_token' },
    });
    await oauth.processRevocationResponse(response);
  } catch (error) {
    throw toFailure(error, response, deps.clock.now());
  } finally {
    request.done();
  }
}

/** RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5) and, for OpenID providers, the ID token checks. */
export async function authorizationCodeGrant(
  deps: TokenClientDeps,
  link: OAuthLink,
  input: {
    readonly callbackParameters: URLSearchParams;
    readonly redirectUri: string;
    readonly codeVerifier: string;
    readonly nonce: string | undefined;
    readonly issuer: string | undefined;
    /** The provider's rule for the issuer of its ID tokens (see `ProviderPreset`). */
    readonly idTokenIssuer?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
  },
): Promise<TokenSet> {
  const client = clientOf(link);
  let response: Response | undefined;
  const request = requestOptions(deps);
  try {
    response = await oauth.authorizationCodeGrantRequest(
      authorizationServerOf(link, input.issuer),
      client,
      clientAuthOf(link),
      input.callbackParameters,
      input.redirectUri,
      input.codeVerifier,
      request.options,
    );
    // With no issuer on record (a custom provider without discovery, Microsoft's `common`
    // tenant whose ID tokens name the user's tenant), the ID token's own `iss` is taken:
    // it arrived over TLS straight from the token endpoint (OpenID Connect Core §3.1.3.7).
    const issuer =
      input.issuer ??
      link.issuer ??
      expectedIdTokenIssuer(await peekIdTokenClaims(response), input.idTokenIssuer);
    const as = authorizationServerOf(link, issuer);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: input.nonce ?? oauth.expectNoNonce,
    });
    return toTokenSet(deps.clock, result);
  } catch (error) {
    throw toFailure(error, response, deps.clock.now());
  } finally {
    request.done();
  }
}

async function peekIdTokenClaims(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body = (await response.clone().json()) as { id_token?: unknown };
    if (typeof body.id_token !== 'string') return undefined;
    const payload = body.id_token.split('.')[1] ?? '';
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The issuer to hold an unvalidated ID token to when none is on record: the provider's rule
 * when it has one (a token failing it then fails oauth4webapi's `iss` check), else the
 * token's own `iss`.
 */
export function expectedIdTokenIssuer(
  claims: Readonly<Record<string, unknown>> | undefined,
  rule?: (claims: Readonly<Record<string, unknown>>) => string | undefined,
): string | undefined {
  if (!claims) return undefined;
  if (rule) return rule(claims) ?? 'urn:outlink:no-issuer-for-this-token';
  return typeof claims.iss === 'string' ? claims.iss : undefined;
}

function toTokenSet(clock: Clock, result: oauth.TokenEndpointResponse): TokenSet {
  const claims = oauth.getValidatedIdTokenClaims(result);
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    tokenType: result.token_type,
    expiresAt:
      typeof result.expires_in === 'number'
        ? new Date(clock.now().getTime() + result.expires_in * 1000)
        : undefined,
    scopes: typeof result.scope === 'string' ? result.scope.split(' ').filter(Boolean) : undefined,
    idTokenClaims: claims ? { ...claims } : undefined,
  };
}

/**
 * Maps whatever the request or its processing threw onto the catalog. `now` reads a
 * `Retry-After` HTTP-date: the injected clock's, as every other time the caller keeps.
 */
export function toFailure(error: unknown, response: Response | undefined, now: Date): OAuthFailure {
  if (error instanceof OAuthFailure) return error;
  const retryAfterMs = parseRetryAfter(response?.headers.get('retry-after') ?? null, now.getTime());
  if (error instanceof ResponseTooLargeError) {
    return new OAuthFailure({
      entry: { id: TransientIds.tooLarge, scope: 'transient' },
      status: response?.status,
      cause: error,
    });
  }
  if (error instanceof oauth.ResponseBodyError) {
    return new OAuthFailure({
      entry: classifyProviderError(error.error, error.error_description, error.status),
      error: error.error,
      description: error.error_description,
      status: error.status,
      retryAfterMs,
      cause: error,
    });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const code = error.cause.find((c) => c.parameters.error)?.parameters.error ?? 'invalid_client';
    return new OAuthFailure({
      entry: classifyProviderError(code, undefined, error.status),
      error: code,
      status: error.status,
      retryAfterMs,
      cause: error,
    });
  }
  if (error instanceof oauth.OperationProcessingError) {
    const status = response?.status;
    const entry =
      status !== undefined && status !== 200
        ? classifyProviderError('', undefined, status)
        : { id: TransientIds.malformed, scope: 'transient' as const };
    // A 4xx without an OAuth error body is not a statement about the grant: retry it.
    const transient =
      entry.scope === 'transient'
        ? entry
        : { id: TransientIds.malformed, scope: 'transient' as const };
    return new OAuthFailure({ entry: transient, status, retryAfterMs, cause: error });
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new OAuthFailure({
      entry: { id: TransientIds.timeout, scope: 'transient' },
      cause: error,
    });
  }
  return new OAuthFailure({
    entry: { id: TransientIds.network, scope: 'transient' },
    cause: error,
  });
}

/** `Retry-After` as delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
