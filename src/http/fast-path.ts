import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import fastJson from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';
import { type Actor, assertMayReadToken, isAdmin, mayReadToken } from '../domain/actor.js';
import type { AccessTokenView } from '../domain/connection.js';
import { presentAccessToken } from '../presenters/tokens.js';
import { REJECTED_TOKEN_HEADER } from '../schemas/connections.js';
import { LinkResponse } from '../schemas/links.js';
import type { Services } from '../services/index.js';
import type { CacheEpochSnapshot } from '../store/repositories/cache-epochs.js';
import { bearerTokenOf } from './plugins/auth.js';
import { API_HEADERS } from './plugins/security.js';

/** An API token as verified: who it stands for, and the cache counters read to check it. */
type Verified = { readonly actor: Actor; readonly epochs: CacheEpochSnapshot };

/** One route the fast path answers. */
interface FastRoute {
  /** As Fastify and `/metrics` name it. */
  readonly route: string;
  /** The canonical form only, its id captured: anything else is Fastify's to judge. */
  readonly path: RegExp;
  /** Headers besides the security set, the request id and the length, as the route sends. */
  readonly headers: readonly string[];
  /**
   * The answer's bytes from the caches, or undefined for anything the route would answer
   * otherwise (a refusal, a read, a refresh). Kept with the cached object they show.
   */
  body(id: string, verified: Verified): Buffer | undefined;
  /**
   * For a request `body` could not answer: the route's own work, awaited here — its answer
   * on success; a failure is handed to Fastify with the request, and the route answers it as
   * its own (`fastPathFailure`), so nothing is done twice.
   */
  later?(id: string, verified: Verified): Promise<Buffer>;
}

const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const JSON_TYPE = ['content-type', 'application/json; charset=utf-8'];

export interface FastPath {
  /**
   * Requests answered from the caches by the fast path since the app started, by route
   * (tests, benchmarks).
   */
  readonly served: Readonly<Record<string, number>>;
  /** Requests the fast path answered after awaiting the route's own work (`later`). */
  readonly waited: Readonly<Record<string, number>>;
}

const installed = new WeakMap<FastifyInstance, FastPath>();
/** The failures of the fast path's own attempts, by the request handed on to Fastify. */
const failures = new WeakMap<IncomingMessage, unknown>();

/**
 * The failure the fast path met answering this request before handing it to Fastify: the
 * route throws it as its own answer instead of doing the work again. Given once.
 */
export function fastPathFailure(request: IncomingMessage): { error: unknown } | undefined {
  if (!failures.has(request)) return undefined;
  const error = failures.get(request);
  failures.delete(request);
  return { error };
}

/** The app's fast path, when it has one (none at a debug log level). */
export function fastPathOf(app: FastifyInstance): FastPath | undefined {
  return installed.get(app);
}

/**
 * Issue 12: the hottest reads — `GET /api/v1/connections/:id/token`, which programs call per
 * connection or per request, and `GET /api/v1/links/:id` — answered from the caches before
 * Fastify sees the request. Fastify's request machinery (hooks, routing, validation,
 * serialization) cost those routes more than half of their CPU. The fast path answers exactly
 * the requests a route would answer from its caches — an API token this process verified
 * since the last commit (or verified now, as the route would), allowed to read what is
 * asked, whose view is cached under the counters read in this request — with the route's
 * status, headers and bytes. For the token route it also awaits the route's own work when
 * the cache cannot answer (a read, a refresh: callers joining one refresh wait here, not in
 * Fastify) and answers its success; a failure goes to Fastify with the request, and the
 * route answers it as its own (`fastPathFailure`). Every other request goes to Fastify
 * untouched: a rejected-token report, a session cookie, a route spelled another way, an API
 * token not verified, a server closing (Fastify answers 503).
 *
 * Nothing is logged on the way: at the default level a successful read writes no line in
 * Fastify either (app.ts). At a debug level, where it would, the caller does not install
 * this. Each answer is counted in `/metrics` under its route, as Fastify's hook counts it.
 *
 * Installed on the app's own listener (`app.server`); `inject()` and any further listener
 * Fastify binds (both addresses of `localhost`) go through Fastify alone.
 */
export function installFastPath(
  app: FastifyInstance,
  services: Pick<Services, 'apiTokens' | 'tokens' | 'links' | 'metrics'>,
  requestIdOf: (request: IncomingMessage) => string,
): void {
  const served: Record<string, number> = {};
  const waited: Record<string, number> = {};
  const state = { closing: false };
  installed.set(app, { served, waited });
  const { apiTokens, tokens, links, metrics } = services;

  const tokenBodies = new WeakMap<object, Buffer>();
  const tokenBytes = (token: Readonly<AccessTokenView>) =>
    Buffer.from(JSON.stringify(presentAccessToken(token)));
  const linkBodies = new WeakMap<object, Buffer>();
  // The route's own serializer: the schema Fastify compiles for it, with the same compiler.
  const linkJson = fastJson(LinkResponse);
  const routes: readonly FastRoute[] = [
    {
      route: '/api/v1/connections/:id/token',
      path: new RegExp(`^/api/v1/connections/${UUID}/token$`),
      headers: ['cache-control', 'no-store', ...JSON_TYPE],
      body(id, { actor, epochs }) {
        let allowed = false;
        const token = tokens.cachedAccessToken(id, {
          epochs,
          authorize: (connection) => {
            allowed = mayReadToken(actor, connection);
          },
        });
        if (!token || !allowed) return undefined;
        let body = tokenBodies.get(token);
        if (body === undefined) {
          body = tokenBytes(token);
          tokenBodies.set(token, body);
        }
        return body;
      },
      // The route's read, refresh or refusal: callers joining a refresh (1,000 on an expired
      // token) wait here at the fast path's cost instead of each going through Fastify.
      async later(id, { actor, epochs }) {
        const token = await tokens.getAccessToken(id, {
          epochs,
          authorize: (connection) => assertMayReadToken(actor, connection),
        });
        return tokenBytes(token);
      },
    },
    {
      route: '/api/v1/links/:id',
      path: new RegExp(`^/api/v1/links/${UUID}$`),
      headers: JSON_TYPE,
      body(id, { actor, epochs }) {
        if (!isAdmin(actor)) return undefined;
        const view = links.cachedView(id, epochs);
        if (!view) return undefined;
        let body = linkBodies.get(view);
        if (body === undefined) {
          body = Buffer.from(linkJson(view));
          linkBodies.set(view, body);
        }
        return body;
      },
    },
  ];
  const security = Object.entries(API_HEADERS).flat();

  /** Writes the route's answer: status 200, its headers, `body`. */
  const write = (
    request: IncomingMessage,
    response: ServerResponse,
    route: FastRoute,
    body: Buffer,
    started: number,
  ) => {
    response.writeHead(200, [
      ...security,
      ...route.headers,
      'x-request-id',
      requestIdOf(request),
      'content-length',
      String(body.length),
    ]);
    response.end(body);
    metrics.observeHttp('GET', route.route, 200, (performance.now() - started) / 1000);
  };

  /** True once answered; false when nothing was written and Fastify must answer. */
  const answer = (
    request: IncomingMessage,
    response: ServerResponse,
    match: { route: FastRoute; id: string },
    verified: Verified,
    started: number,
  ): boolean => {
    const body = match.route.body(match.id, verified);
    if (!body) return false;
    write(request, response, match.route, body, started);
    served[match.route.route] = (served[match.route.route] ?? 0) + 1;
    return true;
  };

  /** The route's own work awaited (`later`); a failure goes to Fastify with the request. */
  const answerLater = (
    request: IncomingMessage,
    response: ServerResponse,
    match: { route: FastRoute; id: string },
    later: NonNullable<FastRoute['later']>,
    verified: Verified,
    started: number,
    fastify: RequestListener,
  ) => {
    later(match.id, verified)
      .then(
        (body) => {
          // A caller gone meanwhile: nothing to answer (Fastify would write nothing either).
          if (response.destroyed) return;
          write(request, response, match.route, body, started);
          waited[match.route.route] = (waited[match.route.route] ?? 0) + 1;
        },
        (error: unknown) => {
          failures.set(request, error);
          fastify(request, response);
        },
      )
      // Writing failed half-way (the socket went): the connection goes, never the process.
      .catch(() => response.destroy());
  };

  /** The route and id a request asks for, when the fast path may try it. */
  const matchOf = (request: IncomingMessage) => {
    if (state.closing || request.method !== 'GET') return undefined;
    if (request.headers[REJECTED_TOKEN_HEADER] !== undefined) return undefined;
    const url = request.url ?? '';
    for (const route of routes) {
      const id = route.path.exec(url)?.[1];
      if (id) return { route, id };
    }
    return undefined;
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
      const match = matchOf(request);
      const bearer = match ? bearerTokenOf(request.headers.authorization) : undefined;
      if (!match || !bearer) {
        fastify(request, response);
        return;
      }
      // Without waiting when this process verified the token since the last commit (SQLite's
      // change probe); else after asking the database, as the route would. Any failure goes
      // to Fastify, which answers it as the route does (nothing is written before the end).
      const settle = (verified: Verified | undefined) => {
        try {
          if (verified && !state.closing) {
            if (answer(request, response, match, verified, started)) return;
            const { later } = match.route;
            if (later) {
              answerLater(request, response, match, later, verified, started, fastify);
              return;
            }
          }
        } catch {
          if (response.headersSent) {
            response.destroy();
            return;
          }
        }
        fastify(request, response);
      };
      let known: Verified | undefined;
      try {
        known = apiTokens.authenticateCached(bearer);
      } catch {
        known = undefined;
      }
      if (known) settle(known);
      else apiTokens.authenticate(bearer).then(settle, () => settle(undefined));
    });
    done();
  });
}
