import type { MailProtocol } from '../domain/mail-server.js';

/** The service providers an outgoing link can point at. */
export const ProviderIds = ['google', 'microsoft', 'custom'] as const;
export type ProviderId = (typeof ProviderIds)[number];

export type { MailProtocol };
export type MicrosoftCloud = 'global' | 'gcc';

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
  /** Recommended scopes per mail protocol. */
  readonly scopes?: (options: ProviderOptions) => Record<MailProtocol, string[]>;
  /** Scopes every authorization of this provider needs, whatever the admin chose. */
  readonly requiredScopes?: readonly string[];
  /** Extra authorization request parameters (DESIGN §5). */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /** Scopes requested only to learn which account signed in. */
  readonly identityScopes?: readonly string[];
  /**
   * The issuer an ID token of this provider must name, derived from its claims, where the
   * provider has no single issuer (Microsoft's multi-tenant endpoints: one per tenant).
   */
  readonly idTokenIssuer?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
  readonly refreshTokenRequired: boolean;
  readonly options: readonly ('tenant' | 'cloud')[];
}

export interface ProviderOptions {
  readonly tenant?: string;
  readonly cloud?: MicrosoftCloud;
}
