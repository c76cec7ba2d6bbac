import type { FailureScope } from '../domain/connection.js';
import type { MailProtocol } from '../domain/mail-server.js';

/** The service providers an outgoing link can point at. */
export const ProviderIds = ['google', 'microsoft', 'custom'] as const;
export type ProviderId = (typeof ProviderIds)[number];

export type { MailProtocol };
/**
 * Microsoft's clouds: the global service, GCC (global sign-in, `office365.com` scopes),
 * GCC High and DoD (US Government: `login.microsoftonline.us`, `office365.us`), and
 * Microsoft 365 operated by 21Vianet (`china`: `login.chinacloudapi.cn`, `partner.outlook.cn`).
 */
export const MicrosoftClouds = ['global', 'gcc', 'gcc_high', 'dod', 'china'] as const;
export type MicrosoftCloud = (typeof MicrosoftClouds)[number];

/** Frozen preset data for one provider: what the UI pre-fills and the API documents. */
export interface ProviderPreset {
  readonly id: ProviderId;
  readonly name: string;
  /** Endpoints as functions of the provider options (Microsoft's depend on the tenant). */
  readonly endpoints?: (options: ProviderOptions) => {
    readonly authorizationEndpoint: string;
    readonly tokenEndpoint: string;
  };
  readonly issuer?: (options: ProviderOptions) => string | undefined;
  /** RFC 7009: where a deleted connection's refresh token is revoked; none when absent. */
  readonly revocationEndpoint?: string;
  /** Recommended scopes per mail protocol. */
  readonly scopes?: (options: ProviderOptions) => Record<MailProtocol, string[]>;
  /** Scopes every authorization of this provider needs, whatever the admin chose. */
  readonly requiredScopes?: readonly string[];
  /** Fills in the options an administrator left out (Microsoft: tenant and cloud). */
  readonly resolveOptions?: (requested: RequestedProviderOptions) => ProviderOptions;
  /**
   * The scope the provider means by one it would refuse or misread, with a warning for the
   * administrator; undefined leaves the scope as it is.
   */
  readonly adjustScope?: (scope: string, options: ProviderOptions) => ScopeAdjustment | undefined;
  /** True when the provider refuses redirect URLs whose host is an IP literal. */
  readonly refusesIpLiteralRedirectHost?: boolean;
  /** Extra authorization request parameters (DESIGN §5). */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /** Scopes requested only to learn which account signed in. */
  readonly identityScopes?: readonly string[];
  /**
   * The issuer an ID token of this provider must name, derived from its claims, where the
   * provider has no single issuer (Microsoft's multi-tenant endpoints: one per tenant).
   */
  readonly idTokenIssuer?: (
    claims: Readonly<Record<string, unknown>>,
    options?: ProviderOptions,
  ) => string | undefined;
  /**
   * Who signed in, as a stable key, when the provider's own claims say it better than the
   * ID token's `iss` + `sub` (Microsoft: `tid` + `oid`, the same across its apps).
   */
  readonly accountKey?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
  /** What this provider's own token endpoint errors mean (DESIGN §7 catalog). */
  readonly errors?: ProviderErrors;
  readonly refreshTokenRequired: boolean;
  readonly options: readonly ('tenant' | 'cloud')[];
}

export interface ProviderOptions {
  readonly tenant?: string;
  readonly cloud?: MicrosoftCloud;
}

/** Options as a link's settings carry them: absent or null when not given. */
export interface RequestedProviderOptions {
  readonly tenant?: string | null;
  readonly cloud?: MicrosoftCloud | null;
}

/** A scope rewritten by its provider's rule, and what to tell the administrator. */
export interface ScopeAdjustment {
  readonly scope: string;
  readonly warning: { readonly code: string; readonly params: Readonly<Record<string, string>> };
}

/**
 * A provider's own reading of a token endpoint error: a catalog id (its text lives in the
 * i18n catalogs under `providerErrors.<id>`) and whose fault it is. A field left out matches
 * anything.
 */
export interface ProviderErrorRule {
  readonly id: string;
  readonly scope: FailureScope;
  /** The provider's own code, as `ProviderErrors.codeOf` finds it in `error_description`. */
  readonly code?: string;
  /** The OAuth `error` (RFC 6749 §5.2) it comes with. */
  readonly error?: string;
  /** Tested against `error_description`. */
  readonly description?: RegExp;
  /**
   * An answer of the provider this rule reads, as it words it: what the troubleshooting guide
   * shows under "what you see", and what the catalog's tests classify.
   */
  readonly example: ProviderErrorExample;
}

/** A token or authorization endpoint's error answer (RFC 6749 §4.1.2.1, §5.2). */
export interface ProviderErrorExample {
  readonly error: string;
  readonly description?: string;
}

export interface ProviderErrors {
  /** The provider's own error code inside `error_description`, when it sends one. */
  readonly codeOf?: (description: string) => string | undefined;
  /** Most specific first. */
  readonly rules: readonly ProviderErrorRule[];
}
