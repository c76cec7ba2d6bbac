import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Actor, isAdmin } from '../../domain/actor.js';
import { OutlinkError } from '../../domain/errors.js';
import type { Services } from '../../main/compose.js';
import { authErrors, ErrorResponse, IdParams } from '../../schemas/common.js';
import type { ConnectionView } from '../../services/connections.js';
import type { StoredError } from '../../tokens/token-service.js';
import {
  presentConnection as presentConnectionIn,
  presentStoredError,
} from '../../ui/presenters.js';
import { localeOf } from '../locale.js';
import { actorOf } from '../plugins/auth.js';

const LastError = Type.Object({
  code: Type.String(),
  scope: Type.String(),
  message: Type.String(),
  remedy: Type.String(),
  providerError: Type.Optional(Type.String()),
  providerDescription: Type.Optional(Type.String()),
  at: Type.String(),
});

export const ConnectionResponse = Type.Object({
  id: Type.String(),
  linkId: Type.String(),
  account: Type.String(),
  status: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  lastRefreshedAt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Optional(LastError),
  createdAt: Type.String(),
});

const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  account: Type.String(),
});

/**
 * A consumer whose server refused the token it was given sends that token back here; Outlink
 * then refreshes once, unless a newer token is already stored (DESIGN §7). A header, not a
 * query parameter, so the token never lands in an access log.
 */
export const REJECTED_TOKEN_HEADER = 'x-rejected-token';

const TokenHeaders = Type.Object({
  [REJECTED_TOKEN_HEADER]: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
});

const rejectedOf = (req: FastifyRequest) => {
  const value = req.headers[REJECTED_TOKEN_HEADER];
  return typeof value === 'string' ? { rejectedToken: value } : {};
};

const errors = (...codes: (404 | 409 | 503)[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)]));

/** A stored failure with the catalog's cause and remedy in the request's language. */
export function presentError(request: FastifyRequest, error: StoredError) {
  return presentStoredError(localeOf(request), error);
}

export function presentConnection(request: FastifyRequest, c: ConnectionView) {
  return presentConnectionIn(localeOf(request), c);
}

/** `token:read` reaches the connections and links it was granted; admin reaches all. */
function assertMayRead(actor: Actor, connection: { id: string; linkId: string }) {
  if (isAdmin(actor)) return;
  if (actor.kind === 'api-token' && actor.scopes.includes('token:read')) {
    if (actor.connectionIds.includes(connection.id) || actor.linkIds.includes(connection.linkId))
      return;
  }
  throw new OutlinkError('forbidden');
}

/** Connections (DESIGN §8) and the token routes consumers call. */
export function connectionRoutes(app: FastifyInstance, services: Services): void {
  const { connections, tokens } = services;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/links/:id/connections', {
    schema: {
      tags: ['connections'],
      summary: "A link's connections (one per authorized account)",
      params: IdParams,
      response: {
        200: Type.Object({ items: Type.Array(ConnectionResponse) }),
        ...authErrors,
        ...errors(404),
      },
    },
    handler: async (req) => ({
      items: (await connections.list(req.params.id)).map((c) => presentConnection(req, c)),
    }),
  });

  r.get('/api/v1/connections/:id', {
    schema: {
      tags: ['connections'],
      summary: 'Show a connection: status, expiry, scopes, last error with its remedy',
      params: IdParams,
      response: { 200: ConnectionResponse, ...authErrors, ...errors(404) },
    },
    handler: async (req) => presentConnection(req, await connections.get(req.params.id)),
  });

  r.delete('/api/v1/connections/:id', {
    schema: {
      tags: ['connections'],
      summary: 'Remove a connection and its tokens',
      params: IdParams,
      response: { 204: Type.Null(), ...authErrors, ...errors(404, 409) },
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
      response: { 200: ConnectionResponse, ...authErrors, ...errors(404, 409, 503) },
    },
    handler: async (req) =>
      presentConnection(req, await connections.refresh(actorOf(req), req.params.id)),
  });

  r.get('/api/v1/connections/:id/token', {
    config: { auth: 'token:read' },
    schema: {
      tags: ['tokens'],
      summary: 'A valid access token for the connection (admin, or token:read for it or its link)',
      params: IdParams,
      headers: TokenHeaders,
      response: { 200: TokenResponse, ...authErrors, ...errors(404, 409, 503) },
    },
    handler: async (req, reply) => {
      const connection = await connections.get(req.params.id);
      assertMayRead(actorOf(req), connection);
      reply.header('cache-control', 'no-store');
      const { connectionId: _, ...token } = await tokens.getAccessToken(
        connection.id,
        rejectedOf(req),
      );
      return token;
    },
  });

  r.get('/api/v1/links/:id/token', {
    config: { auth: 'token:read' },
    schema: {
      tags: ['tokens'],
      summary: "A valid access token for the link's only connection, or the named account's",
      params: IdParams,
      headers: TokenHeaders,
      querystring: Type.Object(
        { account: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })) },
        { additionalProperties: false },
      ),
      response: { 200: TokenResponse, ...authErrors, ...errors(404, 409, 503) },
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
      assertMayRead(actor, connection);
      reply.header('cache-control', 'no-store');
      const { connectionId: _, ...token } = await tokens.getAccessToken(
        connection.id,
        rejectedOf(req),
      );
      return token;
    },
  });
}
