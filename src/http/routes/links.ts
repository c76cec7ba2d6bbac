import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateLinkBody, UpdateLinkBody } from '../../domain/link.js';
import type { Services } from '../../main/compose.js';
import {
  authErrors,
  ErrorResponse,
  IdParams,
  ListOf,
  PageQuery,
  validationErrors,
} from '../../schemas/common.js';
import { LinkResponse } from '../../schemas/links.js';
import { localizeWarnings } from '../locale.js';
import { actorOf } from '../plugins/auth.js';

const LinkRef = Type.Ref(LinkResponse);
const notFound = { 404: Type.Ref(ErrorResponse) };
const conflict = { 409: Type.Ref(ErrorResponse) };

/** Link CRUD (DESIGN §4, §8). */
export function linkRoutes(app: FastifyInstance, { links }: Services): void {
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
    handler: async (req, reply) => {
      const { link, warnings } = await links.create(actorOf(req), req.body);
      return reply.status(201).send({ ...link, warnings: localizeWarnings(req, warnings) });
    },
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
    handler: async (req) => {
      const { link, warnings } = await links.update(actorOf(req), req.params.id, req.body);
      return { ...link, warnings: localizeWarnings(req, warnings) };
    },
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
