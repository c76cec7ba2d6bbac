import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../main/compose.js';
import { authErrors, ErrorResponse, IdParams, validationErrors } from '../../schemas/common.js';
import { CreateApiTokenBody } from '../../services/api-tokens.js';
import { actorOf } from '../plugins/auth.js';

const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  linkIds: Type.Array(Type.String()),
  connectionIds: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

/** API tokens: created (shown once), listed, revoked. */
export function apiTokenRoutes(app: FastifyInstance, { apiTokens }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/api-tokens', {
    schema: {
      tags: ['api-tokens'],
      summary: 'Create an API token; the token is in this answer only',
      body: CreateApiTokenBody,
      response: {
        201: Type.Object({ id: Type.String(), token: Type.String() }),
        ...authErrors,
        ...validationErrors,
      },
    },
    handler: async (req, reply) =>
      reply.status(201).send(await apiTokens.create(actorOf(req), req.body)),
  });

  r.get('/api/v1/api-tokens', {
    schema: {
      tags: ['api-tokens'],
      summary: 'List API tokens (never the tokens themselves)',
      response: { 200: Type.Object({ items: Type.Array(ApiToken) }), ...authErrors },
    },
    handler: async () => ({ items: await apiTokens.list() }),
  });

  r.delete('/api/v1/api-tokens/:id', {
    schema: {
      tags: ['api-tokens'],
      summary: 'Revoke an API token',
      params: IdParams,
      response: { 204: Type.Null(), 404: Type.Ref(ErrorResponse), ...authErrors },
    },
    handler: async (req, reply) => {
      await apiTokens.revoke(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });
}
