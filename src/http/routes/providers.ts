import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import { redirectUrlFor } from '../../domain/link.js';
import { ERROR_CODE_KEYWORD } from '../../domain/validation.js';
import type { Services } from '../../main/compose.js';
import { MICROSOFT_DEFAULT_TENANT, MICROSOFT_TENANT_PATTERN } from '../../providers/microsoft.js';
import { providers } from '../../providers/registry.js';
import { ProviderIds } from '../../providers/types.js';
import { authErrors, validationErrors } from '../../schemas/common.js';

const Endpoints = Type.Object({
  authorizationEndpoint: Type.String(),
  tokenEndpoint: Type.String(),
});
const ScopesByProtocol = Type.Object({
  imap: Type.Array(Type.String()),
  pop3: Type.Array(Type.String()),
  smtp: Type.Array(Type.String()),
});

const ProviderResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  endpoints: Type.Union([Endpoints, Type.Null()]),
  issuer: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Union([ScopesByProtocol, Type.Null()]),
  /** Microsoft: scopes per cloud. */
  scopesByCloud: Type.Optional(Type.Object({ global: ScopesByProtocol, gcc: ScopesByProtocol })),
  requiredScopes: Type.Array(Type.String()),
  authorizationParams: Type.Record(Type.String(), Type.String()),
  options: Type.Array(Type.String()),
  redirectUrl: Type.Union([Type.String(), Type.Null()]),
});

const RedirectQuery = Type.Object(
  {
    provider: Type.Union(
      ProviderIds.map((id) => Type.Literal(id)),
      { [ERROR_CODE_KEYWORD]: 'unknown_provider' },
    ),
    authorizationEndpoint: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    tenant: Type.Optional(Type.String({ maxLength: 253, pattern: MICROSOFT_TENANT_PATTERN })),
  },
  { additionalProperties: false },
);

/** Provider presets and redirect URLs, so a UI can show them before anything is saved. */
export function providerRoutes(app: FastifyInstance, { config }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/providers', {
    schema: {
      tags: ['providers'],
      summary: 'Provider presets: endpoints and recommended scopes per protocol',
      response: { 200: Type.Object({ items: Type.Array(ProviderResponse) }), ...authErrors },
    },
    handler: async () => ({
      items: ProviderIds.map((id) => {
        const p = providers[id];
        const endpoints =
          p.endpoints?.({ tenant: MICROSOFT_DEFAULT_TENANT, cloud: 'global' }) ?? null;
        return {
          id: p.id,
          name: p.name,
          endpoints,
          issuer: p.issuer?.({}) ?? null,
          scopes: p.scopes?.({ cloud: 'global' }) ?? null,
          ...(p.options.includes('cloud') && p.scopes
            ? {
                scopesByCloud: {
                  global: p.scopes({ cloud: 'global' }),
                  gcc: p.scopes({ cloud: 'gcc' }),
                },
              }
            : {}),
          requiredScopes: [...(p.requiredScopes ?? [])],
          authorizationParams: { ...(p.authorizationParams ?? {}) },
          options: [...p.options],
          redirectUrl: endpoints
            ? redirectUrlFor(config.baseUrl, endpoints.authorizationEndpoint)
            : null,
        };
      }),
    }),
  });

  r.get('/api/v1/redirect-url', {
    schema: {
      tags: ['providers'],
      summary: 'The redirect URL to register at the provider',
      querystring: RedirectQuery,
      response: {
        200: Type.Object({ redirectUrl: Type.String() }),
        ...authErrors,
        ...validationErrors,
      },
    },
    handler: async (req) => {
      const { provider, authorizationEndpoint, tenant } = req.query;
      const endpoint =
        authorizationEndpoint ?? providers[provider].endpoints?.({ tenant })?.authorizationEndpoint;
      if (!endpoint) {
        throw new OutlinkError(
          'field_required',
          { field: 'authorizationEndpoint' },
          { details: { field: 'authorizationEndpoint' } },
        );
      }
      if (new URL(endpoint).protocol !== 'https:') {
        throw new OutlinkError(
          'endpoint_not_https',
          { field: 'authorizationEndpoint' },
          { details: { field: 'authorizationEndpoint' } },
        );
      }
      return { redirectUrl: redirectUrlFor(config.baseUrl, endpoint) };
    },
  });
}
