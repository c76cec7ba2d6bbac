import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertMayReadToken, isAdmin } from '../../domain/actor.js';
import { OutlinkError } from '../../domain/errors.js';
import { presentConnection } from '../../presenters/connections.js';
import { presentAccessToken } from '../../presenters/tokens.js';
import { authErrors, errorResponses, IdParams, ItemsOf } from '../../schemas/common.js';
import {
  ConnectionResponse,
  LinkTokenQuery,
  REJECTED_TOKEN_HEADER,
  TokenHeaders,
  TokenResponse,
} from '../../schemas/connections.js';
import type { Services } from '../../services/index.js';
import { fastPathFailure } from '../fast-path.js';
import { actorOf } from '../plugins/auth.js';

/** Connections (DESIGN §8) and the token routes consumers call. */
export function connectionRoutes(
  app: FastifyInstance,
  { connections, tokens }: Pick<Services, 'connections' | 'tokens'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/links/:id/connections', {
    schema: {
      tags: ['connections'],
      summary: "A link's connections (one per authorized account)",
      params: IdParams,
      response: { 200: ItemsOf(ConnectionResponse), ...authErrors, ...errorResponses(404) },
    },
    handler: async (req) => ({
      items: (await connections.list(req.params.id)).map((c) => presentConnection(req.locale, c)),
    }),
  });

  r.get('/api/v1/connections/:id', {
    schema: {
      tags: ['connections'],
      summary: 'Show a connection: status, expiry, scopes, last error with its remedy',
      params: IdParams,
      response: { 200: ConnectionResponse, ...authErrors, ...errorResponses(404) },
    },
    handler: async (req) => presentConnection(req.locale, await connections.get(req.params.id)),
  });

  r.delete('/api/v1/connections/:id', {
    schema: {
      tags: ['connections'],
      summary: 'Remove a connection and its tokens',
      params: IdParams,
      response: { 204: Type.Null(), ...authErrors, ...errorResponses(404, 409) },
    },
    handler: async (req, reply) => {
      await connections.remove(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });

  r.post('/api/v1/connections/:id/refresh', {
    schema: {
      tags: ['connections'],
      summary: 'Refresh the token now; returns the connection',
      params: IdParams,
      response: { 200: ConnectionResponse, ...authErrors, ...errorResponses(404, 409, 503) },
    },
    handler: async (req) =>
      presentConnection(req.locale, await connections.refresh(actorOf(req), req.params.id)),
  });

  r.get('/api/v1/connections/:id/token', {
    config: { auth: 'token:read' },
    schema: {
      tags: ['tokens'],
      summary: 'A valid access token for the connection (admin, or token:read for it or its link)',
      params: IdParams,
      headers: TokenHeaders,
      response: { 200: TokenResponse, ...authErrors, ...errorResponses(404, 409, 429, 503) },
    },
    handler: async (req, reply) => {
      // The fast path tried this very request and failed (a refusal, a failed refresh): its
      // failure is the answer; trying again would ask the provider twice.
      const failed = fastPathFailure(req.raw);
      if (failed) throw failed.error;
      const actor = actorOf(req);
      // Issue 12: the permission check runs on the row the token service serves (cached
      // until a write bumps the cache epoch), so a cached token costs no connection read.
      const token = await tokens.getAccessToken(req.params.id, {
        ...rejectedOf(req),
        authorize: (connection) => assertMayReadToken(actor, connection),
        epochs: req.cacheEpochs,
      });
      reply.header('cache-control', 'no-store');
      return presentAccessToken(token);
    },
  });

  r.get('/api/v1/links/:id/token', {
    config: { auth: 'token:read' },
    schema: {
      tags: ['tokens'],
      summary: "A valid access token for the link's only connection, or the named account's",
      params: IdParams,
      headers: TokenHeaders,
      querystring: LinkTokenQuery,
      response: { 200: TokenResponse, ...authErrors, ...errorResponses(404, 409, 429, 503) },
    },
    handler: async (req, reply) => {
      const actor = actorOf(req);
      const wholeLink =
        isAdmin(actor) || (actor.kind === 'api-token' && actor.linkIds.includes(req.params.id));
      if (!wholeLink && (actor.kind !== 'api-token' || actor.connectionIds.length === 0)) {
        throw new OutlinkError('forbidden');
      }
      // A token granted single connections may still name their link: it then sees those
      // connections only, so another account's name never reaches it.
      const connection = await connections.resolveForLink(
        req.params.id,
        req.query.account,
        wholeLink
          ? undefined
          : (c) => actor.kind === 'api-token' && actor.connectionIds.includes(c.id),
      );
      assertMayReadToken(actor, connection);
      reply.header('cache-control', 'no-store');
      return presentAccessToken(await tokens.getAccessToken(connection.id, rejectedOf(req)));
    },
  });
}

/** The token a consumer's server refused, when it sent one back (DESIGN §7). */
function rejectedOf(req: FastifyRequest) {
  const value = req.headers[REJECTED_TOKEN_HEADER];
  return typeof value === 'string' ? { rejectedToken: value, bounded: true } : {};
}
