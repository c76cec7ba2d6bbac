import { createHash } from 'node:crypto';

export interface Warning {
  readonly code: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * `<base URL>/oauth2/callback/<suffix>` with suffix = the first 22 characters of
 * base64url(SHA-256(authorization endpoint)): one redirect URL per authorization server,
 * which is also the mix-up defence of RFC 9700 §4.4.
 */
export function redirectUrlFor(baseUrl: URL, authorizationEndpoint: string): string {
  return `${baseUrl.href.replace(/\/+$/, '')}/oauth2/callback/${callbackSuffix(authorizationEndpoint)}`;
}

export function callbackSuffix(authorizationEndpoint: string): string {
  return createHash('sha256').update(authorizationEndpoint).digest('base64url').slice(0, 22);
}

/** True for a host that is an IPv4 or IPv6 literal (Google refuses those as redirect hosts). */
export function isIpLiteralHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Trims, drops empties and de-duplicates scopes, keeping the first occurrence's order. */
export function cleanScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
}
