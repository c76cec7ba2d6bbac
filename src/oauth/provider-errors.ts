import type { FailureScope } from '../domain/connection.js';
import { providers } from '../providers/registry.js';
import type { ProviderErrorRule, ProviderErrors } from '../providers/types.js';

/**
 * The provider error catalog (DESIGN §7): what a provider's `error` / `error_description`
 * means, whose fault it is, and what to do — the text lives in the i18n catalogs under
 * `providerErrors.<id>.cause` and `.remedy`. This file holds the generic classification
 * (RFC 6749 §5.2 codes, HTTP status); each provider's own codes and wording live with its
 * preset in `providers/` and are looked up through the registry.
 *
 * Scope decides what a failure marks: `transient` never flips a connection to
 * re-authorization; `connection` marks that connection; `link` marks every connection of
 * the link, since its registration (client secret, redirect URL, tenant) is at fault.
 */
export type { FailureScope };

export interface CatalogEntry {
  readonly id: string;
  readonly scope: FailureScope;
}

type Rule = Omit<ProviderErrorRule, 'code'>;

/**
 * RFC 6749 §5.2 error codes (and OpenID Connect Core §3.1.2.6, RFC 8628 §3.5), after every
 * provider's own rules. Most specific first.
 */
const GENERIC_RULES: readonly Rule[] = [
  // An expired secret is the link's to fix like a wrong one, with a remedy of its own.
  { id: 'client_secret_expired', error: 'invalid_client', description: /expired/i, scope: 'link' },
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

/** Every provider's error rules, in registry order. */
const PROVIDER_ERRORS: readonly ProviderErrors[] = Object.values(providers).flatMap((p) =>
  p.errors ? [p.errors] : [],
);

/** The rules read from `error` and `error_description`: the providers' own first. */
const WORDED_RULES: readonly Rule[] = [
  ...PROVIDER_ERRORS.flatMap((c) => c.rules.filter((r) => r.code === undefined)),
  ...GENERIC_RULES,
];

/** Failures that carry no OAuth error body. */
export const TransientIds = {
  network: 'network_error',
  timeout: 'timeout',
  http5xx: 'provider_unavailable',
  http429: 'rate_limited_by_provider',
  malformed: 'malformed_response',
  tooLarge: 'provider_response_too_large',
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
  const text = description ?? '';
  const matches = (rule: Rule) =>
    (rule.error === undefined || rule.error === error) &&
    (rule.description === undefined || rule.description.test(text));
  // A provider's own code (an AADSTS number) is the most specific: it beats the OAuth
  // `error` it came with. Then the providers' other rules, then the generic ones.
  for (const catalog of PROVIDER_ERRORS) {
    const code = catalog.codeOf?.(text);
    if (code === undefined) continue;
    const rule = catalog.rules.find((r) => r.code === code && matches(r));
    if (rule) return { id: rule.id, scope: rule.scope };
  }
  const rule = WORDED_RULES.find(matches);
  if (rule) return { id: rule.id, scope: rule.scope };
  if (status !== undefined && (status >= 500 || status === 429)) {
    return { id: status === 429 ? TransientIds.http429 : TransientIds.http5xx, scope: 'transient' };
  }
  return { id: 'unknown_provider_error', scope: 'connection' };
}

/** Failures of the dance itself, found by Outlink rather than reported by the provider. */
export const FlowFailureIds = [
  'state_expired',
  'session_mismatch',
  'authorization_not_bound',
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

/**
 * A connection whose link's endpoints moved to another server: its tokens were discarded, not
 * sent there (issue 11). The connection's own fault to fix (re-authorize), so a fixed link
 * does not retry it.
 */
export const ENDPOINT_MOVED = 'endpoint_moved';

/** Every catalog id, for the test that each has text in both languages. */
export const catalogIds: readonly string[] = [
  ...new Set([
    ...PROVIDER_ERRORS.flatMap((c) => c.rules.map((r) => r.id)),
    ...GENERIC_RULES.map((r) => r.id),
    ...Object.values(TransientIds),
    ...FlowFailureIds,
    ENDPOINT_MOVED,
    'unknown_provider_error',
  ]),
];
