import { OutlinkError } from '../domain/errors.js';
import { cleanScopes, isIpLiteralHost, type Warning } from '../domain/link.js';
import { isNationalCloud, MICROSOFT_CLOUDS } from './microsoft.js';
import { presetFor } from './registry.js';
import type { MicrosoftCloud, ProviderId, ProviderOptions } from './types.js';

/** The settings of a link once provider rules have been applied; what is stored. */
export interface ResolvedLinkSettings {
  provider: ProviderId;
  scopes: string[];
  authorizationEndpoint: string;
  tokenEndpoint: string;
  issuer: string | null;
  tenant: string | null;
  cloud: MicrosoftCloud | null;
  clientAuthMethod: 'client_secret_post' | 'client_secret_basic';
}

/** What the administrator asked for, after merging an update onto the stored link. */
export interface RequestedLinkSettings {
  provider: ProviderId;
  scopes?: readonly string[];
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  issuer?: string | null;
  tenant?: string | null;
  cloud?: MicrosoftCloud | null;
  clientAuthMethod?: 'client_secret_post' | 'client_secret_basic';
}

/**
 * Applies the provider's rules (DESIGN §4–5) to requested settings: preset options,
 * endpoints and scopes, the preset's scope rule (Google's spelling, Microsoft's cloud) and
 * required scopes (Microsoft's `offline_access`). Pure:
 * a custom provider's issuer discovery happens before this, in the link service.
 */
export function applyProviderRules(requested: RequestedLinkSettings): {
  settings: ResolvedLinkSettings;
  warnings: Warning[];
} {
  const { provider } = requested;
  const preset = presetFor(provider);
  const warnings: Warning[] = [];
  for (const field of ['tenant', 'cloud'] as const) {
    if (requested[field] != null && !preset.options.includes(field)) {
      throw new OutlinkError('field_not_applicable', { field, provider }, { details: { field } });
    }
  }
  if (requested.issuer != null && provider !== 'custom') {
    throw new OutlinkError(
      'field_not_applicable',
      { field: 'issuer', provider },
      { details: { field: 'issuer' } },
    );
  }
  if (requested.issuer != null) assertIssuer(requested.issuer);
  const options: ProviderOptions = preset.resolveOptions?.(requested) ?? {};
  const presetEndpoints = preset.endpoints?.(options);
  const authorizationEndpoint =
    requested.authorizationEndpoint ?? presetEndpoints?.authorizationEndpoint;
  const tokenEndpoint = requested.tokenEndpoint ?? presetEndpoints?.tokenEndpoint;
  if (!authorizationEndpoint || !tokenEndpoint) throw new OutlinkError('endpoints_required');
  assertHttps('authorizationEndpoint', authorizationEndpoint);
  assertHttps('tokenEndpoint', tokenEndpoint);

  const recommended = preset.scopes ? Object.values(preset.scopes(options)).flat() : [];
  let scopes = cleanScopes(requested.scopes ?? recommended);
  const adjustScope = preset.adjustScope;
  if (adjustScope) {
    scopes = cleanScopes(
      scopes.map((scope) => {
        const adjusted = adjustScope(scope, options);
        if (!adjusted) return scope;
        warnings.push(adjusted.warning);
        return adjusted.scope;
      }),
    );
  }
  if (scopes.length === 0)
    throw new OutlinkError('scopes_empty', {}, { details: { field: 'scopes' } });
  for (const scope of preset.requiredScopes ?? []) {
    if (scopes.includes(scope)) continue;
    scopes.push(scope);
    warnings.push({ code: 'offline_access_added', params: { scope } });
  }
  // A national cloud's app is registered in its own portal, with this link's redirect URL.
  if (options.cloud && isNationalCloud(options.cloud)) {
    warnings.push({
      code: 'national_cloud_registration',
      params: { cloud: options.cloud, portal: MICROSOFT_CLOUDS[options.cloud].portal },
    });
  }

  return {
    settings: {
      provider,
      scopes,
      authorizationEndpoint,
      tokenEndpoint,
      issuer:
        provider === 'custom' ? (requested.issuer ?? null) : (preset.issuer?.(options) ?? null),
      tenant: options.tenant ?? null,
      cloud: options.cloud ?? null,
      clientAuthMethod: requested.clientAuthMethod ?? 'client_secret_post',
    },
    warnings,
  };
}

/** A warning when the provider refuses redirect hosts that are IP literals (`localhost` aside). */
export function baseUrlWarnings(provider: ProviderId, baseUrl: URL): Warning[] {
  if (!presetFor(provider).refusesIpLiteralRedirectHost) return [];
  if (!isIpLiteralHost(baseUrl.hostname)) return [];
  return [{ code: 'redirect_host_ip_literal', params: { host: baseUrl.hostname } }];
}

/**
 * An issuer identifier is an https URL without query or fragment (RFC 8414 §2); it is
 * compared with the RFC 9207 `iss` parameter, so it must be exactly what the server names.
 */
export function assertIssuer(value: string): void {
  assertHttps('issuer', value);
  if (new URL(value).search) {
    throw new OutlinkError(
      'field_invalid',
      { field: 'issuer', problem: 'an issuer must not carry a query' },
      { details: { field: 'issuer' } },
    );
  }
}

/** An endpoint Outlink sends secrets to: `https://`, no fragment, no credentials. */
export function assertHttps(field: string, value: string): void {
  const url = new URL(value);
  if (url.protocol !== 'https:') {
    throw new OutlinkError('endpoint_not_https', { field }, { details: { field } });
  }
  if (url.hash || url.username || url.password) {
    throw new OutlinkError(
      'field_invalid',
      { field, problem: 'an endpoint must not carry a fragment or credentials' },
      { details: { field } },
    );
  }
}
