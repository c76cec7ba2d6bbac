import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentReauthorization } from '../../presenters/reauthorizations.js';
import {
  authErrors,
  errorResponses,
  IdParams,
  ItemsOf,
  validationErrors,
} from '../../schemas/common.js';
import {
  CreatedReauthorization,
  CreateReauthorizationBody,
  ReauthorizationResponse,
  RevokedReauthorization,
} from '../../schemas/reauthorizations.js';
import type { Services } from '../../services/index.js';
import { REAUTHORIZE_PATH } from '../../services/reauthorizations.js';
import { actorOf } from '../plugins/auth.js';
import { openStartUrl } from './authorizations.js';

/**
 * Re-authorization without a console (issue 13): an administrator makes a one-time link for
 * one connection; its owner opens it, with no Outlink account, and runs the dance for it.
 */
export function reauthorizationRoutes(
  app: FastifyInstance,
  { reauthorizations }: Pick<Services, 'reauthorizations'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/connections/:id/reauthorization', {
    schema: {
      tags: ['connections'],
      summary:
        'Make a one-time re-authorization link for the connection (returned this once), and email it if asked',
      params: IdParams,
      body: Type.Optional(CreateReauthorizationBody),
      response: {
        201: CreatedReauthorization,
        ...authErrors,
        ...validationErrors,
        ...errorResponses(404, 409, 502, 503),
      },
    },
    handler: async (req, reply) => {
      const body = req.body ?? {};
      const created = await reauthorizations.create(actorOf(req), req.params.id, {
        ...(body.expiresInHours !== undefined ? { expiresInHours: body.expiresInHours } : {}),
        ...(body.mailServer
          ? {
              email: {
                mailServer: body.mailServer,
                ...(body.to ? { to: body.to } : {}),
                locale: body.language ?? req.locale,
              },
            }
          : {}),
      });
      reply.header('cache-control', 'no-store');
      return reply
        .status(201)
        .send({ ...presentReauthorization(created.invitation), url: created.url });
    },
  });

  r.get('/api/v1/connections/:id/reauthorization', {
    schema: {
      tags: ['connections'],
      summary: "The connection's re-authorization links, newest first (never their secret)",
      params: IdParams,
      response: {
        200: ItemsOf(ReauthorizationResponse),
        ...authErrors,
        ...errorResponses(404),
      },
    },
    handler: async (req) => ({
      items: (await reauthorizations.list(req.params.id)).map(presentReauthorization),
    }),
  });

  r.delete('/api/v1/connections/:id/reauthorization', {
    schema: {
      tags: ['connections'],
      summary: "Revoke the connection's active re-authorization link",
      params: IdParams,
      response: { 200: RevokedReauthorization, ...authErrors, ...errorResponses(404) },
    },
    handler: async (req) => ({
      revoked: await reauthorizations.revoke(actorOf(req), req.params.id),
    }),
  });

  // The link itself: public, its secret authenticates it. Like a start URL (issue 11) it binds
  // the flow to this browser with a `__Host-` flow cookie and sends it on to the provider.
  r.get(`${REAUTHORIZE_PATH}:secret`, {
    config: { auth: 'public' },
    schema: { hide: true, params: Type.Object({ secret: Type.String({ maxLength: 100 }) }) },
    handler: (req, reply) =>
      openStartUrl(req.locale, reply, () => reauthorizations.open(req.params.secret)),
  });
}
