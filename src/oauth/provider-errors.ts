import type { FailureScope } from '../domain/connection.js';
import { ESCAPE_SEQUENCE } from '../domain/escapes.js';
import { providers } from '../providers/registry.js';
import type {
  ProviderErrorExample,
  ProviderErrorRule,
  ProviderErrors,
  ProviderId,
} from '../providers/types.js';

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
  {
    id: 'client_secret_expired',
    error: 'invalid_client',
    description: /expired/i,
    scope: 'link',
    example: { error: 'invalid_client', description: 'The client secret has expired.' },
  },
  {
    id: 'invalid_grant',
    error: 'invalid_grant',
    scope: 'connection',
    example: { error: 'invalid_grant', description: 'grant request is invalid' },
  },
  {
    id: 'invalid_client',
    error: 'invalid_client',
    scope: 'link',
    example: { error: 'invalid_client', description: 'client authentication failed' },
  },
  {
    id: 'unauthorized_client',
    error: 'unauthorized_client',
    scope: 'link',
    example: { error: 'unauthorized_client', description: 'Unauthorized' },
  },
  {
    id: 'invalid_scope',
    error: 'invalid_scope',
    scope: 'link',
    example: { error: 'invalid_scope', description: 'requested scope is not allowed' },
  },
  {
    id: 'access_denied',
    error: 'access_denied',
    scope: 'connection',
    example: { error: 'access_denied', description: 'The user denied the request.' },
  },
  {
    id: 'consent_required',
    error: 'consent_required',
    scope: 'connection',
    example: { error: 'consent_required' },
  },
  {
    id: 'login_required',
    error: 'login_required',
    scope: 'connection',
    example: { error: 'login_required' },
  },
  {
    id: 'server_error',
    error: 'server_error',
    scope: 'transient',
    example: { error: 'server_error' },
  },
  {
    id: 'temporarily_unavailable',
    error: 'temporarily_unavailable',
    scope: 'transient',
    example: { error: 'temporarily_unavailable' },
  },
  { id: 'slow_down', error: 'slow_down', scope: 'transient', example: { error: 'slow_down' } },
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

/** The most characters of a provider's `error_description` Outlink keeps and shows. */
export const DESCRIPTION_LIMIT = 500;

/**
 * A provider's own words as Outlink keeps and shows them (issue 13: the real error, as text,
 * sanitized): control characters (CR/LF that would forge log or terminal lines, escapes)
 * become spaces, runs of spaces one, and the text is cut to `DESCRIPTION_LIMIT` characters.
 */
export function sanitizeProviderText(text: string, limit = DESCRIPTION_LIMIT): string {
  const clean = text
    .replace(ESCAPE_SEQUENCE, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  const chars = [...clean];
  return chars.length <= limit ? clean : `${chars.slice(0, limit - 1).join('')}…`;
}

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

/** One entry of the provider error catalog as the troubleshooting guide lists it. */
export interface CatalogListing {
  readonly id: string;
  readonly scope: FailureScope;
  /** The provider whose answers the entry reads; `any` for RFC 6749's own codes. */
  readonly provider: ProviderId | 'any';
  /** The provider's own code (an AADSTS number), when the entry is read from it. */
  readonly code?: string;
  /** What the provider answers, one per rule that leads to the entry. */
  readonly examples: readonly ProviderErrorExample[];
}

/**
 * The provider error entries in catalog order (each provider's own, then the generic ones):
 * the data `docs/troubleshooting*.md` is generated from, so guide and product never disagree.
 */
export const catalogListing: readonly CatalogListing[] = listing([
  ...Object.values(providers).flatMap((p) =>
    (p.errors?.rules ?? []).map((r) => ({ ...r, provider: p.id as ProviderId | 'any' })),
  ),
  ...GENERIC_RULES.map((r) => ({ ...r, provider: 'any' as const })),
]);

function listing(
  rules: readonly (Omit<ProviderErrorRule, 'code'> & {
    code?: string;
    provider: ProviderId | 'any';
  })[],
): CatalogListing[] {
  const byId = new Map<string, CatalogListing>();
  for (const r of rules) {
    const known = byId.get(r.id);
    byId.set(r.id, {
      id: r.id,
      scope: r.scope,
      provider: r.provider,
      ...(r.code !== undefined ? { code: r.code } : {}),
      examples: [...(known?.examples ?? []), r.example],
    });
  }
  return [...byId.values()];
}

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
