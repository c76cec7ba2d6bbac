/**
 * The checks diagnose makes from what Outlink stores alone, without asking anyone: pure
 * functions of the link, its connections and the time.
 */
import { redirectUrlFor } from '../../domain/link.js';
import type { MailProtocol } from '../../domain/mail-server.js';
import { neededScopes } from '../../providers/mail-registry.js';
import type { MicrosoftCloud, ProviderId } from '../../providers/types.js';
import type { LinkView } from '../../schemas/links.js';
import type { ConnectionRecord } from '../../store/repositories/connections.js';
import { check, type DiagnosticCheck } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A mail server that authenticates with one of the link's connections. */
export interface MailUse {
  readonly id: string;
  readonly name: string;
  readonly protocol: MailProtocol;
  readonly connectionId: string;
}

/** 1. The base URL must be https: providers refuse other redirect URLs (but loopback). */
export function baseUrlCheck(baseUrl: URL, isHttps: boolean): DiagnosticCheck {
  return isHttps
    ? check('base_url_https', 'pass', 'https', { baseUrl: baseUrl.href })
    : check('base_url_https', 'fail', 'not_https', { baseUrl: baseUrl.href });
}

/**
 * 2. Each connection's redirect URI, as its last authorization used it, against the one the
 * current base URL gives: after a move, the provider must know the new one.
 */
export function storedRedirectChecks(
  baseUrl: URL,
  link: Pick<LinkView, 'authorizationEndpoint'>,
  connections: readonly ConnectionRecord[],
): DiagnosticCheck[] {
  const current = redirectUrlFor(baseUrl, link.authorizationEndpoint);
  return connections
    .filter((c) => c.redirectUri !== null && c.redirectUri !== current)
    .map((c) =>
      check(
        'redirect_url',
        'warn',
        'changed',
        { account: c.account, authorizedWith: c.redirectUri ?? '', redirectUrl: current },
        c.account,
      ),
    );
}

/**
 * Scopes the token endpoint does not echo back whatever was granted: `openid` and
 * `offline_access` everywhere, and Microsoft leaves out the OpenID Connect ones too.
 */
function unreported(provider: ProviderId): ReadonlySet<string> {
  return provider === 'microsoft'
    ? new Set(['openid', 'offline_access', 'profile', 'email'])
    : new Set(['openid', 'offline_access']);
}

/**
 * 6. The scopes the link asks for against those each connection was granted (a scope added
 * to the link after an authorization is not granted until the next one), and the scopes its
 * mail servers need.
 */
export function scopeChecks(
  link: Pick<LinkView, 'provider' | 'cloud' | 'scopes'>,
  connections: readonly ConnectionRecord[],
  mail: readonly MailUse[],
): DiagnosticCheck[] {
  const skip = unreported(link.provider);
  return connections.map((c) => {
    const granted = new Set(c.scopes);
    const notGranted = link.scopes.filter((s) => !skip.has(s) && !granted.has(s));
    const needed = mail
      .filter((m) => m.connectionId === c.id)
      .flatMap((m) =>
        neededScopes(link.provider, (link.cloud as MicrosoftCloud | null) ?? null, m.protocol)
          .filter((s) => !granted.has(s))
          .map((s) => `${s} (${m.name})`),
      );
    if (needed.length > 0) {
      return check(
        'scopes',
        'fail',
        'mail_missing',
        { account: c.account, scopes: [...new Set(needed)].join(', ') },
        c.account,
      );
    }
    if (notGranted.length > 0) {
      return check(
        'scopes',
        'fail',
        'not_granted',
        { account: c.account, scopes: notGranted.join(' ') },
        c.account,
      );
    }
    return check(
      'scopes',
      'pass',
      'granted',
      { account: c.account, scopes: c.scopes.join(' ') },
      c.account,
    );
  });
}

/** 7. Each connection's token status, expiry and last refresh. */
export function connectionChecks(
  connections: readonly ConnectionRecord[],
  now: Date,
  /** The provider's words for access tokens it refused (by connection id). */
  refused: ReadonlyMap<string, string> = new Map(),
): DiagnosticCheck[] {
  if (connections.length === 0) return [check('connection_token', 'warn', 'none')];
  return connections.map((c) => {
    const base = {
      account: c.account,
      expiresAt: c.expiresAt ?? '-',
      lastRefreshedAt: c.lastRefreshedAt ?? '-',
    };
    if (c.status === 'reauthorization_required') {
      const params = {
        ...base,
        reason: c.lastError?.id ?? '-',
        providerError: providerWords(c.lastError),
      };
      return check(
        'connection_token',
        'fail',
        'reauthorization_required',
        params,
        c.account,
        c.lastError?.id,
      );
    }
    if (c.status === 'refresh_failing') {
      const params = { ...base, providerError: providerWords(c.lastError) };
      return check('connection_token', 'warn', 'refresh_failing', params, c.account);
    }
    const expired = c.expiresAt !== null && Date.parse(c.expiresAt) <= now.getTime();
    if (c.refreshTokenEnc === null) {
      return check(
        'connection_token',
        expired ? 'fail' : 'warn',
        expired ? 'expired_no_refresh' : 'no_refresh_token',
        base,
        c.account,
      );
    }
    const refusal = refused.get(c.id);
    if (refusal !== undefined) {
      const params = { ...base, providerError: refusal };
      return check('connection_token', 'fail', 'token_refused', params, c.account);
    }
    return check('connection_token', 'pass', 'valid', base, c.account);
  });
}

function providerWords(error: ConnectionRecord['lastError']): string {
  if (!error?.error) return '-';
  return error.description ? `${error.error}: ${error.description}` : error.error;
}

/** 9. The client secret's expiry date, when the administrator recorded it. */
export function secretExpiryCheck(
  link: Pick<LinkView, 'clientSecretExpiresAt'>,
  now: Date,
): DiagnosticCheck {
  const date = link.clientSecretExpiresAt;
  if (!date) return check('client_secret_expiry', 'pass', 'not_recorded');
  const days = Math.floor((Date.parse(date) - now.getTime()) / DAY_MS);
  if (Date.parse(date) <= now.getTime()) {
    return check('client_secret_expiry', 'fail', 'expired', { date });
  }
  if (days < 30) return check('client_secret_expiry', 'warn', 'soon', { date, days });
  return check('client_secret_expiry', 'pass', 'ok', { date, days });
}

/**
 * 10. Google: an app whose OAuth consent screen is in "Testing" status gets refresh tokens
 * that die 7 days after the authorization. A connection refused with `invalid_grant` about
 * seven days after it was authorized shows that pattern.
 * @see https://developers.google.com/identity/protocols/oauth2#expiration
 */
export function googleTestingChecks(connections: readonly ConnectionRecord[]): DiagnosticCheck[] {
  const dead = connections.filter((c) => {
    if (c.status !== 'reauthorization_required' || c.lastError?.error !== 'invalid_grant') {
      return false;
    }
    const authorized = Date.parse(c.authorizedAt ?? c.createdAt);
    const age = Date.parse(c.lastError.at) - authorized;
    return age >= 6.5 * DAY_MS && age <= 8 * DAY_MS;
  });
  if (dead.length === 0) return [check('google_testing', 'pass', 'no_pattern')];
  return dead.map((c) =>
    check('google_testing', 'fail', 'testing_pattern', { account: c.account }, c.account),
  );
}

/**
 * 11. Microsoft: a refresh token unused for 90 days expires (AADSTS700082). Outlink refreshes
 * every connection daily, so a long idle time means the scheduler has not been running.
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-lifetime
 */
export function microsoftInactivityChecks(
  connections: readonly ConnectionRecord[],
  now: Date,
): DiagnosticCheck[] {
  const risky = connections.flatMap((c) => {
    if (c.refreshTokenEnc === null || c.status === 'reauthorization_required') return [];
    const last = c.lastRefreshedAt ?? c.authorizedAt ?? c.createdAt;
    const days = Math.floor((now.getTime() - Date.parse(last)) / DAY_MS);
    if (days >= 90) {
      return [
        check(
          'microsoft_inactivity',
          'fail',
          'expired_likely',
          { account: c.account, days, last },
          c.account,
        ),
      ];
    }
    if (days >= 60) {
      return [
        check(
          'microsoft_inactivity',
          'warn',
          'at_risk',
          { account: c.account, days, last },
          c.account,
        ),
      ];
    }
    return [];
  });
  return risky.length > 0 ? risky : [check('microsoft_inactivity', 'pass', 'active')];
}
