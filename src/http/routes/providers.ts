import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import { redirectUrlFor } from '../../domain/link.js';
import { presentProvider } from '../../presenters/providers.js';
import { providers } from '../../providers/registry.js';
import { ProviderIds } from '../../providers/types.js';
import { authErrors, ItemsOf, validationErrors } from '../../schemas/common.js';
import { ProviderResponse, RedirectQuery, RedirectResponse } from '../../schemas/providers.js';
import type { Services } from '../../services/index.js';

/** Provider presets and redirect URLs, so a UI can show them before anything is saved. */
export function providerRoutes(app: FastifyInstance, { config }: Pick<Services, 'config'>): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/providers', {
    schema: {
      tags: ['providers'],
      summary: 'Provider presets: endpoints and recommended scopes per protocol',
      response: { 200: ItemsOf(ProviderResponse), ...authErrors },
    },
    handler: async () => ({
      items: ProviderIds.map((id) => presentProvider(providers[id], config.baseUrl)),
    }),
  });

  r.get('/api/v1/redirect-url', {
    schema: {
      tags: ['providers'],
      summary: 'The redirect URL to register at the provider',
      querystring: RedirectQuery,
      response: { 200: RedirectResponse, ...authErrors, ...validationErrors },
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
