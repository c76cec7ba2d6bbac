/**
 * The checks diagnose makes by asking the authorization server, each a request that changes
 * nothing there or here: an authorization request that is never completed, plain GETs, the
 * discovery document, and a token request with a grant that cannot be valid.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { redirectUrlFor } from '../../domain/link.js';
import type { Discover, Fetch } from '../../oauth/discovery.js';
import { OAuthFailure, type OAuthLink, refreshGrant } from '../../oauth/token-client.js';
import { looksLikeSecretId } from '../../providers/microsoft.js';
import type { LinkView } from '../../schemas/links.js';
import { check, type DiagnosticCheck } from './types.js';

export interface ProbeDeps {
  readonly fetch: Fetch;
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/** Node's and undici's codes for a certificate that does not verify. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME/;

/**
 * 2. Whether the provider knows the redirect URL: an authorization request is sent and never
 * completed. A provider that does not know it answers with its own error page, naming it
 * (oidc-provider `invalid_redirect_uri`, Google `redirect_uri_mismatch`, Entra `AADSTS50011`);
 * one that knows it goes on to its sign-in page or redirects.
 */
export async function redirectRegistrationCheck(
  deps: ProbeDeps,
  baseUrl: URL,
  link: Pick<LinkView, 'authorizationEndpoint' | 'clientId' | 'scopes'>,
): Promise<DiagnosticCheck> {
  const redirectUrl = redirectUrlFor(baseUrl, link.authorizationEndpoint);
  const url = new URL(link.authorizationEndpoint);
  url.searchParams.set('client_id', link.clientId);
  url.searchParams.set('redirect_uri', redirectUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', link.scopes.join(' '));
  url.searchParams.set('state', randomBytes(16).toString('base64url'));
  url.searchParams.set('code_challenge', randomBytes(32).toString('base64url'));
  url.searchParams.set('code_challenge_method', 'S256');
  let response: Response;
  try {
    response = await deps.fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (error) {
    return check('redirect_url', 'warn', 'unchecked', { redirectUrl, problem: describe(error) });
  }
  const body = (await response.text().catch(() => '')).slice(0, 200_000);
  if (
    /redirect_uri_mismatch|invalid_redirect_uri|AADSTS50011|redirect_uri did not match/i.test(body)
  ) {
    return check('redirect_url', 'fail', 'not_registered', { redirectUrl });
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? '';
    if (/[?&#]error=/.test(location) && !location.startsWith(redirectUrl)) {
      return check('redirect_url', 'warn', 'unchecked', {
        redirectUrl,
        problem: `HTTP ${response.status}`,
      });
    }
    return check('redirect_url', 'pass', 'registered', { redirectUrl });
  }
  if (response.status < 300) return check('redirect_url', 'pass', 'registered', { redirectUrl });
  return check('redirect_url', 'warn', 'unchecked', {
    redirectUrl,
    problem: `HTTP ${response.status}`,
  });
}

/** What fetching one endpoint said: the check, and the server's `Date` when it answered. */
export interface EndpointProbe {
  readonly check: DiagnosticCheck;
  readonly date?: string;
  /** The client's time halfway through the request, to compare `date` with. */
  readonly at?: number;
}

/**
 * 3. The endpoint's host resolves, and it presents a certificate Node trusts for it: any
 * HTTP answer at all proves both; a failure says which step broke.
 */
export async function endpointCheck(deps: ProbeDeps, endpoint: string): Promise<EndpointProbe> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { check: check('endpoint_tls', 'fail', 'invalid', { endpoint }, endpoint) };
  }
  const host = url.host;
  if (url.protocol !== 'https:') {
    return { check: check('endpoint_tls', 'fail', 'not_https', { endpoint, host }, host) };
  }
  const started = deps.clock.now().getTime();
  try {
    const response = await deps.fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    const at = (started + deps.clock.now().getTime()) / 2;
    const date = response.headers.get('date') ?? undefined;
    return {
      check: check('endpoint_tls', 'pass', 'ok', { endpoint, host, status: response.status }, host),
      ...(date ? { date, at } : {}),
    };
  } catch (error) {
    const code = codeOf(error);
    const problem = describe(error);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return { check: check('endpoint_tls', 'fail', 'dns', { endpoint, host, problem }, host) };
    }
    if (TLS_CODES.test(code)) {
      return { check: check('endpoint_tls', 'fail', 'tls', { endpoint, host, problem }, host) };
    }
    return {
      check: check('endpoint_tls', 'fail', 'unreachable', { endpoint, host, problem }, host),
    };
  }
}

/** 8. Clock skew against the provider's `Date` header (RFC 9110 §6.6.1, whole seconds). */
export function clockSkewCheck(probe: EndpointProbe | undefined): DiagnosticCheck {
  if (!probe?.date || probe.at === undefined || Number.isNaN(Date.parse(probe.date))) {
    return check('clock_skew', 'warn', 'unknown');
  }
  const seconds = Math.round((probe.at - Date.parse(probe.date)) / 1000);
  const params = { seconds, providerDate: new Date(Date.parse(probe.date)).toISOString() };
  // The header has whole seconds and the request takes time: a few seconds are noise.
  if (Math.abs(seconds) <= 60) return check('clock_skew', 'pass', 'ok', params);
  if (Math.abs(seconds) <= 300) return check('clock_skew', 'warn', 'skewed', params);
  return check('clock_skew', 'fail', 'skewed', params);
}

/** 4. A custom link with an issuer: the issuer's metadata names the same endpoints. */
export async function discoveryCheck(
  discover: Discover,
  link: Pick<LinkView, 'issuer' | 'authorizationEndpoint' | 'tokenEndpoint'>,
): Promise<{ check: DiagnosticCheck; userinfoEndpoint?: string }> {
  if (!link.issuer) return { check: check('discovery', 'pass', 'no_issuer') };
  const issuer = link.issuer;
  try {
    const found = await discover(issuer);
    const userinfo = found.userinfoEndpoint ? { userinfoEndpoint: found.userinfoEndpoint } : {};
    const differing = [
      ['authorization_endpoint', link.authorizationEndpoint, found.authorizationEndpoint],
      ['token_endpoint', link.tokenEndpoint, found.tokenEndpoint],
    ].filter(([, configured, published]) => configured !== published);
    if (differing.length === 0) {
      return { check: check('discovery', 'pass', 'agrees', { issuer }), ...userinfo };
    }
    const differences = differing.map(([name, c, p]) => `${name}: ${c} ≠ ${p}`).join('; ');
    return { check: check('discovery', 'warn', 'differs', { issuer, differences }), ...userinfo };
  } catch (error) {
    return { check: check('discovery', 'fail', 'failed', { issuer, problem: describe(error) }) };
  }
}

/**
 * Whether the provider still accepts a connection's access token: OpenID Connect Core 1.0
 * §5.3 UserInfo, read-only. A revoked grant's tokens are refused at once (RFC 6750 §3.1
 * `invalid_token`), long before the next refresh would tell. Undefined when it cannot tell.
 */
export async function userinfoRefusal(
  deps: ProbeDeps,
  endpoint: string,
  accessToken: string,
): Promise<string | undefined> {
  try {
    const response = await deps.fetch(endpoint, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 401) return undefined;
    const challenge = response.headers.get('www-authenticate') ?? '';
    const error = /error="([^"]*)"/.exec(challenge)?.[1] ?? 'HTTP 401';
    const description = /error_description="([^"]*)"/.exec(challenge)?.[1];
    return (description ? `${error}: ${description}` : error).slice(0, 300);
  } catch {
    return undefined;
  }
}

/**
 * 5. Whether the token endpoint accepts the client's credentials, without a real grant: a
 * refresh token that cannot exist is sent. RFC 6749 §5.2: `invalid_grant` means the client
 * authenticated and only the grant was refused; `invalid_client` that the credentials are
 * wrong. Entra ID adds its own code (AADSTS7000215 wrong secret, 7000222 expired).
 */
export async function clientCredentialsCheck(
  deps: ProbeDeps,
  link: OAuthLink & Pick<LinkView, 'provider'>,
): Promise<DiagnosticCheck> {
  const bogus = `outlink-diagnose-${randomBytes(16).toString('base64url')}`;
  try {
    await refreshGrant(deps, link, bogus);
    return check('client_credentials', 'warn', 'unexpected', { providerError: 'HTTP 200' });
  } catch (error) {
    if (!(error instanceof OAuthFailure)) {
      return check('client_credentials', 'warn', 'unchecked', { problem: describe(error) });
    }
    const providerError = error.error
      ? `${error.error}${error.description ? `: ${error.description.slice(0, 300)}` : ''}`
      : `${error.entry.id}${error.status ? ` (HTTP ${error.status})` : ''}`;
    if (error.error === 'invalid_grant') {
      return check('client_credentials', 'pass', 'accepted', { providerError });
    }
    if (error.entry.id === 'aadsts_7000222' || error.entry.id === 'client_secret_expired') {
      return check(
        'client_credentials',
        'fail',
        'secret_expired',
        { providerError },
        undefined,
        error.entry.id,
      );
    }
    if (
      error.error === 'invalid_client' ||
      error.error === 'unauthorized_client' ||
      error.entry.scope === 'link'
    ) {
      const secretId = link.provider === 'microsoft' && looksLikeSecretId(link.clientSecret);
      // A secret shaped like a GUID says more than the catalog can: keep that remedy.
      return check(
        'client_credentials',
        'fail',
        secretId ? 'secret_id' : 'rejected',
        { providerError },
        undefined,
        secretId ? undefined : error.entry.id,
      );
    }
    if (error.entry.scope === 'transient') {
      return check('client_credentials', 'warn', 'unchecked', { problem: providerError });
    }
    return check('client_credentials', 'warn', 'unexpected', { providerError });
  }
}

function codeOf(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    e = e.cause;
  }
  return '';
}

/** An error in a few words, its causes included (never a request: no secret is in it). */
function describe(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e !== undefined; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${e.message} (${code})` : e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(': ').slice(0, 300);
}
