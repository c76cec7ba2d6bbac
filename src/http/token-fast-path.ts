import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { mayReadToken } from '../domain/actor.js';
import { presentAccessToken } from '../presenters/tokens.js';
import { REJECTED_TOKEN_HEADER } from '../schemas/connections.js';
import type { Services } from '../services/index.js';
import { bearerTokenOf } from './plugins/auth.js';
import { API_HEADERS } from './plugins/security.js';

/** The route the fast path answers, as Fastify and `/metrics` name it. */
export const TOKEN_ROUTE = '/api/v1/connections/:id/token';

/** Only the canonical form: anything else (query, case, encoding) is Fastify's to judge. */
const TOKEN_PATH =
  /^\/api\/v1\/connections\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/token$/;

/** The route's fixed headers, as Fastify sends them (the security plugin's API set). */
const HEADERS: readonly string[] = [
  ...Object.entries(API_HEADERS).flat(),
  'cache-control',
  'no-store',
  'content-type',
  'application/json; charset=utf-8',
];

export interface TokenFastPath {
  /** Requests answered by the fast path since the app started (tests and benchmarks). */
  readonly served: number;
}

const installed = new WeakMap<FastifyInstance, TokenFastPath>();

/** The app's fast path, when it has one (none at a debug log level). */
export function tokenFastPathOf(app: FastifyInstance): TokenFastPath | undefined {
  return installed.get(app);
}

/**
 * Issue 12: `GET /api/v1/connections/:id/token` answered from the caches before Fastify sees
 * the request. Programs ask for a token per connection or per request, and Fastify's request
 * machinery (hooks, routing, validation, serialization) cost that route more than half of its
 * CPU. The fast path answers exactly the requests the route would answer from its caches —
 * a known, unrevoked API token allowed to read the connection, whose token is cached and
 * fresh under the cache counters read in this request — with the same status, headers and
 * bytes. Every other request, and any it cannot finish, goes to Fastify untouched: errors,
 * refusals, refreshes, reads, a rejected-token report, a route spelled another way, a server
 * closing (Fastify answers those 503).
 *
 * Nothing is logged on the way: at the default level a successful read writes no line in the
 * route either (app.ts). At a debug level, where it would, the caller does not install this.
 * The request is counted in `/metrics` under the route, as Fastify's hook counts it.
 *
 * Installed on the app's own listener (`app.server`); `inject()` and any further listener
 * Fastify binds (both addresses of `localhost`) go through Fastify alone.
 */
export function installTokenFastPath(
  app: FastifyInstance,
  services: Pick<Services, 'apiTokens' | 'tokens' | 'metrics'>,
  requestIdOf: (request: IncomingMessage) => string,
): void {
  const state = { served: 0, closing: false };
  installed.set(app, state);
  const { apiTokens, tokens, metrics } = services;
  // The answer's bytes, kept with the cached view they show (shared until the row changes).
  const bodies = new WeakMap<object, Buffer>();

  /** True once answered; false when nothing was written and Fastify must answer. */
  const answer = async (
    request: IncomingMessage,
    response: ServerResponse,
    id: string,
    bearer: string,
    started: number,
  ): Promise<boolean> => {
    const verified = await apiTokens.authenticate(bearer);
    if (!verified || state.closing) return false;
    let allowed = false;
    const token = tokens.cachedAccessToken(id, {
      epochs: verified.epochs,
      authorize: (connection) => {
        allowed = mayReadToken(verified.actor, connection);
      },
    });
    if (!token || !allowed) return false;
    let body = bodies.get(token);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(presentAccessToken(token)));
      bodies.set(token, body);
    }
    response.writeHead(200, [
      ...HEADERS,
      'x-request-id',
      requestIdOf(request),
      'content-length',
      String(body.length),
    ]);
    response.end(body);
    state.served++;
    metrics.observeHttp('GET', TOKEN_ROUTE, 200, (performance.now() - started) / 1000);
    return true;
  };

  app.addHook('preClose', (done) => {
    state.closing = true;
    done();
  });
  app.addHook('onReady', (done) => {
    const [fastify, ...others] = app.server.listeners('request') as RequestListener[];
    // Fastify registers exactly one; anything else is not the server this was written for.
    if (!fastify || others.length > 0) {
      installed.delete(app);
      done();
      return;
    }
    app.server.removeListener('request', fastify);
    app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const started = performance.now();
      const id =
        !state.closing &&
        request.method === 'GET' &&
        request.headers[REJECTED_TOKEN_HEADER] === undefined
          ? TOKEN_PATH.exec(request.url ?? '')?.[1]
          : undefined;
      const bearer = id ? bearerTokenOf(request.headers.authorization) : undefined;
      if (!id || !bearer) {
        fastify(request, response);
        return;
      }
      answer(request, response, id, bearer, started).then(
        (answered) => {
          if (!answered) fastify(request, response);
        },
        () => {
          // Nothing is written before the last step; if that step failed, the socket is gone.
          if (response.headersSent) response.destroy();
          else fastify(request, response);
        },
      );
    });
    done();
  });
}
