import type { Static } from '@sinclair/typebox';
import { redirectUrlFor } from '../domain/link.js';
import { MICROSOFT_DEFAULT_TENANT } from '../providers/microsoft.js';
import { MicrosoftClouds, type ProviderPreset } from '../providers/types.js';
import type { ProviderResponse } from '../schemas/providers.js';

/**
 * A provider preset as `GET /api/v1/providers` shows it: endpoints (Microsoft's for the
 * default tenant), recommended scopes per protocol (per cloud for Microsoft), and the
 * redirect URL to register when the endpoint is already known (DESIGN §4, §5).
 */
export function presentProvider(p: ProviderPreset, baseUrl: URL): Static<typeof ProviderResponse> {
  const endpoints = p.endpoints?.({ tenant: MICROSOFT_DEFAULT_TENANT, cloud: 'global' }) ?? null;
  return {
    id: p.id,
    name: p.name,
    endpoints,
    issuer: p.issuer?.({}) ?? null,
    scopes: p.scopes?.({ cloud: 'global' }) ?? null,
    ...(p.options.includes('cloud') && p.scopes
      ? {
          scopesByCloud: Object.fromEntries(
            MicrosoftClouds.map((cloud) => [cloud, p.scopes!({ cloud })]),
          ),
        }
      : {}),
    ...(p.options.includes('cloud') && p.endpoints
      ? {
          endpointsByCloud: Object.fromEntries(
            MicrosoftClouds.map((cloud) => [
              cloud,
              p.endpoints!({ tenant: MICROSOFT_DEFAULT_TENANT, cloud }),
            ]),
          ),
        }
      : {}),
    requiredScopes: [...(p.requiredScopes ?? [])],
    authorizationParams: { ...(p.authorizationParams ?? {}) },
    options: [...p.options],
    redirectUrl: endpoints ? redirectUrlFor(baseUrl, endpoints.authorizationEndpoint) : null,
  };
}
