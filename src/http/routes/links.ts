import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentLinkChange } from '../../presenters/links.js';
import {
  authErrors,
  errorResponses,
  IdParams,
  ListOf,
  PageQuery,
  validationErrors,
} from '../../schemas/common.js';
import { CreateLinkBody, LinkResponse, UpdateLinkBody } from '../../schemas/links.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

const LinkRef = Type.Ref(LinkResponse);
const notFound = errorResponses(404);
const conflict = errorResponses(409);

/** Link CRUD (DESIGN §4, §8). */
export function linkRoutes(app: FastifyInstance, { links }: Pick<Services, 'links'>): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/links', {
    schema: {
      tags: ['links'],
      summary: 'List application links',
      querystring: PageQuery,
      response: { 200: ListOf(LinkRef), ...authErrors, ...validationErrors },
    },
    handler: (req) => links.list({ limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  r.post('/api/v1/links', {
    schema: {
      tags: ['links'],
      summary: 'Create an outgoing application link',
      body: CreateLinkBody,
      response: { 201: LinkRef, ...authErrors, ...validationErrors, ...conflict },
    },
    handler: async (req, reply) =>
      reply
        .status(201)
        .send(presentLinkChange(req.locale, await links.create(actorOf(req), req.body))),
  });

  r.get('/api/v1/links/:id', {
    schema: {
      tags: ['links'],
      summary: 'Show a link with its connections',
      params: IdParams,
      response: { 200: LinkRef, ...authErrors, ...notFound },
    },
    handler: (req) => links.get(req.params.id),
  });

  r.patch('/api/v1/links/:id', {
    schema: {
      tags: ['links'],
      summary: 'Update a link; omitted fields keep their values',
      params: IdParams,
      body: UpdateLinkBody,
      response: { 200: LinkRef, ...authErrors, ...validationErrors, ...notFound, ...conflict },
    },
    handler: async (req) =>
      presentLinkChange(req.locale, await links.update(actorOf(req), req.params.id, req.body)),
  });

  r.delete('/api/v1/links/:id', {
    schema: {
      tags: ['links'],
      summary: 'Delete a link and its connections',
      params: IdParams,
      response: { 204: Type.Null(), ...authErrors, ...notFound, ...conflict },
    },
    handler: async (req, reply) => {
      await links.remove(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });
}
