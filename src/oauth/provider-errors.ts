/**
 * The provider error catalog (DESIGN §7): what a provider's `error` / `error_description`
 * means, whose fault it is, and what to do — the text lives in the i18n catalogs under
 * `providerErrors.<id>.cause` and `.remedy`.
 *
 * Scope decides what a failure marks: `transient` never flips a connection to
 * re-authorization; `connection` marks that connection; `link` marks every connection of
 * the link, since its registration (client secret, redirect URL, tenant) is at fault.
 */
export type FailureScope = 'transient' | 'connection' | 'link';

export interface CatalogEntry {
  readonly id: string;
  readonly scope: FailureScope;
}

interface Rule extends CatalogEntry {
  readonly aadsts?: string;
  readonly error?: string;
  readonly description?: RegExp;
}

/** Most specific first: an AADSTS code beats the OAuth `error` it came with. */
const RULES: readonly Rule[] = [
  { id: 'aadsts_7000222', aadsts: '7000222', scope: 'link' },
  { id: 'aadsts_7000215', aadsts: '7000215', scope: 'link' },
  { id: 'aadsts_50011', aadsts: '50011', scope: 'link' },
  { id: 'aadsts_90002', aadsts: '90002', scope: 'link' },
  { id: 'aadsts_700082', aadsts: '700082', scope: 'connection' },
  { id: 'aadsts_65001', aadsts: '65001', scope: 'connection' },
  { id: 'aadsts_70000', aadsts: '70000', scope: 'connection' },
  { id: 'aadsts_50076', aadsts: '50076', scope: 'connection' },
  { id: 'aadsts_53003', aadsts: '53003', scope: 'connection' },
  {
    id: 'google_token_revoked',
    error: 'invalid_grant',
    description: /token has been expired or revoked/i,
    scope: 'connection',
  },
  { id: 'client_secret_expired', error: 'invalid_client', description: /expired/i, scope: 'link' },
  { id: 'admin_policy_enforced', error: 'admin_policy_enforced', scope: 'connection' },
  { id: 'invalid_rapt', error: 'invalid_rapt', scope: 'connection' },
  {
    id: 'invalid_rapt',
    error: 'invalid_grant',
    description: /invalid_rapt|reauth/i,
    scope: 'connection',
  },
  { id: 'redirect_uri_mismatch', error: 'redirect_uri_mismatch', scope: 'link' },
  { id: 'invalid_grant', error: 'invalid_grant', scope: 'connection' },
  { id: 'invalid_client', error: 'invalid_client', scope: 'link' },
  { id: 'unauthorized_client', error: 'unauthorized_client', scope: 'link' },
  { id: 'invalid_scope', error: 'invalid_scope', scope: 'link' },
  { id: 'access_denied', error: 'access_denied', scope: 'connection' },
  { id: 'consent_required', error: 'consent_required', scope: 'connection' },
  { id: 'login_required', error: 'login_required', scope: 'connection' },
  { id: 'server_error', error: 'server_error', scope: 'transient' },
  { id: 'temporarily_unavailable', error: 'temporarily_unavailable', scope: 'transient' },
  { id: 'slow_down', error: 'slow_down', scope: 'transient' },
];

/** Failures that carry no OAuth error body. */
export const TransientIds = {
  network: 'network_error',
  timeout: 'timeout',
  http5xx: 'provider_unavailable',
  http429: 'rate_limited_by_provider',
  malformed: 'malformed_response',
} as const;

/**
 * Classifies an OAuth error answer. `status` is the HTTP status of the token endpoint's
 * answer when there was one: an unknown error code with a 5xx is transient, with a 4xx it is
 * the connection's (RFC 6749 §5.2 lists no other retryable code).
 */
export function classifyProviderError(
  error: string,
  description: string | undefined,
  status?: number,
): CatalogEntry {
  const aadsts = /AADSTS(\d+)/.exec(description ?? '')?.[1];
  for (const rule of RULES) {
    if (rule.aadsts && rule.aadsts !== aadsts) continue;
    if (rule.error && rule.error !== error) continue;
    if (rule.description && !rule.description.test(description ?? '')) continue;
    return { id: rule.id, scope: rule.scope };
  }
  if (status !== undefined && (status >= 500 || status === 429)) {
    return { id: status === 429 ? TransientIds.http429 : TransientIds.http5xx, scope: 'transient' };
  }
  return { id: 'unknown_provider_error', scope: 'connection' };
}

/** Failures of the dance itself, found by Outlink rather than reported by the provider. */
export const FlowFailureIds = [
  'state_expired',
  'session_mismatch',
  'callback_suffix_mismatch',
  'iss_mismatch',
  'iss_missing',
  'callback_invalid',
  'code_missing',
  'refresh_token_missing',
  'account_unknown',
  'account_mismatch',
  'id_token_invalid',
] as const;
export type FlowFailureId = (typeof FlowFailureIds)[number];

/** Every catalog id, for the test that each has text in both languages. */
export const catalogIds: readonly string[] = [
  ...new Set([
    ...RULES.map((r) => r.id),
    ...Object.values(TransientIds),
    ...FlowFailureIds,
    'unknown_provider_error',
  ]),
];
