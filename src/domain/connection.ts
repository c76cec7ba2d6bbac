/**
 * A connection's token status (DESIGN §7): `valid`; `refresh_failing` (transient errors, the
 * token is still usable until it expires); `reauthorization_required` (a permanent failure:
 * the account must authorize again, or the link be fixed).
 */
export const ConnectionStatuses = ['valid', 'refresh_failing', 'reauthorization_required'] as const;
export type ConnectionStatus = (typeof ConnectionStatuses)[number];

/**
 * Whose fault a failure is, which decides what it marks: `transient` never flips a connection
 * to re-authorization; `connection` marks that connection; `link` marks every connection of
 * the link, since its registration (client secret, redirect URL, tenant) is at fault.
 */
export type FailureScope = 'transient' | 'connection' | 'link';

/** The last failure of a connection, as stored: catalog id and the provider's own words. */
export interface StoredError {
  readonly id: string;
  readonly scope: FailureScope;
  readonly error?: string;
  readonly description?: string;
  readonly status?: number;
  readonly at: string;
}

/** What a consumer of a connection's token gets (DESIGN §8 token routes). */
export interface AccessTokenView {
  readonly connectionId: string;
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresAt: string | null;
  readonly scopes: string[];
  readonly account: string;
}
