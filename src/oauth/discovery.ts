import * as oauth from 'oauth4webapi';
import { OutlinkError } from '../domain/errors.js';
import { cappedFetch, ResponseTooLargeError } from './capped-fetch.js';

/** The `fetch` Outlink uses for every provider call; tests pass one that trusts their CA. */
export type Fetch = typeof fetch;

export interface DiscoveredEndpoints {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** OpenID Connect Discovery 1.0 §3 `userinfo_endpoint`, when the issuer has one. */
  readonly userinfoEndpoint?: string;
}

export type Discover = (issuer: string) => Promise<DiscoveredEndpoints>;

/**
 * Reads an issuer's metadata: OpenID Connect Discovery 1.0 first, then RFC 8414
 * (`/.well-known/oauth-authorization-server`). oauth4webapi checks that the document's
 * `issuer` equals the one asked for (RFC 8414 §3.3), which stops a spoofed document.
 */
export function createDiscovery(deps: { fetch: Fetch; timeoutMs?: number }): Discover {
  return async (issuer) => {
    const url = new URL(issuer);
    const problems: string[] = [];
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      try {
        const response = await oauth.discoveryRequest(url, {
          algorithm,
          [oauth.customFetch]: cappedFetch(deps.fetch),
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
        const as = await oauth.processDiscoveryResponse(url, response);
        if (!as.authorization_endpoint || !as.token_endpoint) {
          problems.push(
            `${algorithm}: the document lacks authorization_endpoint or token_endpoint`,
          );
          continue;
        }
        return {
          issuer: as.issuer,
          authorizationEndpoint: as.authorization_endpoint,
          tokenEndpoint: as.token_endpoint,
          ...(as.userinfo_endpoint ? { userinfoEndpoint: as.userinfo_endpoint } : {}),
        };
      } catch (error) {
        if (error instanceof ResponseTooLargeError) {
          throw new OutlinkError('provider_response_too_large', {
            url: url.href,
            limit: error.limit,
          });
        }
        problems.push(`${algorithm}: ${describe(error)}`);
      }
    }
    throw new OutlinkError('discovery_failed', { issuer, problem: problems.join('; ') });
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`.slice(0, 300);
}
