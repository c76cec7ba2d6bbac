import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  authErrors,
  errorResponses,
  IdParams,
  ItemsOf,
  validationErrors,
} from '../../schemas/common.js';
import { CreatedWebhook, CreateWebhookBody, Webhook } from '../../schemas/webhooks.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

/**
 * Webhook endpoints for connection events and, when asked for, issue and comment events,
 * signed the Standard Webhooks way.
 */
export function webhookRoutes(
  app: FastifyInstance,
  { webhooks }: Pick<Services, 'webhooks'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/webhooks', {
    schema: {
      tags: ['webhooks'],
      summary: 'Add a webhook endpoint; its signing secret is in this answer only',
      body: CreateWebhookBody,
      response: { 201: CreatedWebhook, ...authErrors, ...validationErrors },
    },
    handler: async (req, reply) =>
      reply.status(201).send(await webhooks.create(actorOf(req), req.body)),
  });

  r.get('/api/v1/webhooks', {
    schema: {
      tags: ['webhooks'],
      summary: 'List webhook endpoints (never their secrets)',
      response: { 200: ItemsOf(Webhook), ...authErrors },
    },
    handler: async () => ({ items: await webhooks.list() }),
  });

  r.delete('/api/v1/webhooks/:id', {
    schema: {
      tags: ['webhooks'],
      summary: 'Remove a webhook endpoint',
      params: IdParams,
      response: { 204: Type.Null(), ...errorResponses(404), ...authErrors },
    },
    handler: async (req, reply) => {
      await webhooks.remove(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });
}
