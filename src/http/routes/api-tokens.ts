import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiToken, CreateApiTokenBody, CreatedApiToken } from '../../schemas/api-tokens.js';
import {
  authErrors,
  errorResponses,
  IdParams,
  ItemsOf,
  validationErrors,
} from '../../schemas/common.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

/** API tokens: created (shown once), listed, revoked. */
export function apiTokenRoutes(
  app: FastifyInstance,
  { apiTokens }: Pick<Services, 'apiTokens'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/api-tokens', {
    schema: {
      tags: ['api-tokens'],
      summary: 'Create an API token; the token is in this answer only',
      body: CreateApiTokenBody,
      response: { 201: CreatedApiToken, ...authErrors, ...validationErrors },
    },
    handler: async (req, reply) =>
      reply.status(201).send(await apiTokens.create(actorOf(req), req.body)),
  });

  r.get('/api/v1/api-tokens', {
    schema: {
      tags: ['api-tokens'],
      summary: 'List API tokens (never the tokens themselves)',
      response: { 200: ItemsOf(ApiToken), ...authErrors },
    },
    handler: async () => ({ items: await apiTokens.list() }),
  });

  r.delete('/api/v1/api-tokens/:id', {
    schema: {
      tags: ['api-tokens'],
      summary: 'Revoke an API token',
      params: IdParams,
      response: { 204: Type.Null(), ...errorResponses(404), ...authErrors },
    },
    handler: async (req, reply) => {
      await apiTokens.revoke(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });
}
