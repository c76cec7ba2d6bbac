import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentDiagnosis } from '../../presenters/diagnose.js';
import { presentLinkChange, presentLinkRemoval } from '../../presenters/links.js';
import {
  authErrors,
  errorResponses,
  IdParams,
  ListOf,
  PageQuery,
  validationErrors,
} from '../../schemas/common.js';
import { DiagnosisResponse } from '../../schemas/diagnose.js';
import {
  CreateLinkBody,
  LinkRemovalResponse,
  LinkResponse,
  UpdateLinkBody,
} from '../../schemas/links.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

const LinkRef = Type.Ref(LinkResponse);
const notFound = errorResponses(404);
const conflict = errorResponses(409);

/** Link CRUD (DESIGN §4, §8). */
export function linkRoutes(
  app: FastifyInstance,
  { links, diagnose }: Pick<Services, 'links' | 'diagnose'>,
): void {
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
    handler: (req) => links.get(req.params.id, req.cacheEpochs),
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
      summary:
        'Delete a link and its connections; their grants are revoked at the provider (RFC 7009) where it has a revocation endpoint',
      params: IdParams,
      response: { 200: LinkRemovalResponse, ...authErrors, ...notFound, ...conflict },
    },
    handler: async (req) =>
      presentLinkRemoval(req.locale, await links.remove(actorOf(req), req.params.id)),
  });

  r.post('/api/v1/links/:id/diagnose', {
    schema: {
      tags: ['links'],
      summary:
        'Diagnose a link: every check (pass, warn or fail) with a remedy; changes nothing and never shows a secret',
      params: IdParams,
      response: { 200: DiagnosisResponse, ...authErrors, ...notFound },
    },
    handler: async (req) => presentDiagnosis(req.locale, await diagnose.diagnose(req.params.id)),
  });
}
