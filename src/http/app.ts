import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Services } from '../services/index.js';
import { installFastPath } from './fast-path.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin } from './plugins/errors.js';
import { localePlugin } from './plugins/locale.js';
import { openApiPlugin } from './plugins/openapi.js';
import { securityPlugin } from './plugins/security.js';
import { validatorPlugin } from './plugins/validator.js';
import { lazyChildLoggerFactory } from './request-logger.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { authorizationRoutes } from './routes/authorizations.js';
import { clusterRoutes } from './routes/cluster.js';
import { connectionRoutes } from './routes/connections.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { issueRoutes } from './routes/issues.js';
import { linkRoutes } from './routes/links.js';
import { mailHandlerRoutes } from './routes/mail-handler.js';
import { mailServerRoutes } from './routes/mail-servers.js';
import { metricsRoutes } from './routes/metrics.js';
import { providerRoutes } from './routes/providers.js';
import { reauthorizationRoutes } from './routes/reauthorizations.js';
import { sessionRoutes } from './routes/session.js';
import { uiRoutes } from './routes/ui.js';
import { webhookRoutes } from './routes/webhooks.js';

/** Requests that change nothing: answered without error, their line is a debug line. */
const READS = new Set(['GET', 'HEAD']);
const DEBUG_LEVELS = new Set(['debug', 'trace']);

/**
 * One request line per request, written when it is answered — method, URL without query
 * values (the logger's serializers), status and time — instead of Fastify's two (one as it
 * arrives, one as it is answered). At the default level (info) it is written for every
 * request that changes something and every refusal or failure (status ≥ 400); a successful
 * read (GET or HEAD: a token, a link, a page, a probe) logs at debug only. Those are the hot
 * path — programs read a token per connection or per request — and their line cost the token
 * route a sixth of its CPU (issue 12); `/metrics` counts them by route and status. Errors are
 * logged as Fastify logs them, through the request's logger with every redaction.
 */
class OneLinePerRequest extends LogController {
  readonly #lines: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    super();
    // No redaction paths: the line's `req` is the logger's request serializer (method, URL
    // without query values, host, address; never a header) and its `res` the status, so no
    // field can hold a secret. The process logger's paths cost a fifth of the token route's
    // CPU (issue 12); every other line keeps them.
    this.#lines = log.child(
      {},
      {
        redact: { paths: [] },
        serializers: { res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }) },
      },
    );
  }

  /** At debug level only, so that a default log level writes one line per request. */
  override incomingRequest(request: FastifyRequest): void {
    if (DEBUG_LEVELS.has(request.log.level))
      request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else if (reply.statusCode < 400 && READS.has(request.method)) {
      if (DEBUG_LEVELS.has(this.#lines.level))
        this.#lines.debug(this.#line(request, reply), 'request completed');
    } else {
      this.#lines.info(this.#line(request, reply), 'request completed');
    }
  }

  #line(request: FastifyRequest, reply: FastifyReply) {
    return { reqId: request.id, req: request, res: reply, responseTime: reply.elapsedTime };
  }
}

/** The header a request id arrives and leaves in (issue 13 item 5). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** An incoming request id is kept only when it is a short token of safe characters. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The id of a request: the one a proxy or client sent in `x-request-id` when it is a short
 * safe token (so it cannot forge log lines or carry a secret's length of data), else a new
 * UUID. It is on every log line of the request and returned in the same header.
 */
export function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && SAFE_REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** No field of any route needs more; larger bodies answer 413 `body_too_large`. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Limits of the listener (issue 11): a client that trickles its headers, holds a request
 * open, idles on a kept-alive socket or stalls its TLS handshake is cut, and connections are
 * bounded. Keep-alive outlasts the 60 s idle timeout of common load balancers, so they close
 * first and never send on a socket Outlink just closed.
 */
export interface ServerLimits {
  /** Until the request headers are complete (Node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** Until the whole request is received (`requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive socket stays open this long. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at once; more are closed on arrival. */
  readonly maxConnections: number;
  /** Until the TLS handshake completes (`handshakeTimeout`). */
  readonly tlsHandshakeTimeoutMs: number;
}

export const SERVER_LIMITS: ServerLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 1024,
  tlsHandshakeTimeoutMs: 10_000,
});

/** The services the HTTP application serves; each route takes the part it uses. */
export type AppServices = Pick<
  Services,
  | 'config'
  | 'cluster'
  | 'log'
  | 'clock'
  | 'store'
  | 'users'
  | 'apiTokens'
  | 'links'
  | 'diagnose'
  | 'events'
  | 'flows'
  | 'reauthorizations'
  | 'connections'
  | 'tokens'
  | 'webhooks'
  | 'mailServers'
  | 'mailHandler'
  | 'issues'
  | 'metrics'
> &
  Partial<Pick<Services, 'schedulerRunning'>>;

/** One registered route, as `routesOf` lists it. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  /** Who may call it, as the auth plugin decided; undefined outside `/api/v1`. */
  readonly auth: string | undefined;
}

export interface AppOptions {
  /** Extra Fastify options: `https` for the listener, and the like. */
  readonly fastify?: Partial<FastifyServerOptions> & { https?: unknown };
  /** The listener's limits; tests shorten them. */
  readonly limits?: Partial<ServerLimits>;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app registered (HEAD twins included), so tests can walk the table. */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

/**
 * Builds the HTTP application over the services. Tests call this and `inject()` without a
 * port; `serve` adds the HTTPS listener.
 */
export async function buildApp(
  services: AppServices,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const limits: ServerLimits = { ...SERVER_LIMITS, ...options.limits };
  const nodeServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the header and request deadlines on this tick (30 s by default, which
    // would triple a 10 s header limit).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 10)),
  };
  const { https, ...fastifyOptions } = options.fastify ?? {};
  const app = Fastify({
    loggerInstance: services.log,
    logController: new OneLinePerRequest(services.log),
    childLoggerFactory: lazyChildLoggerFactory,
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: services.config.trustProxy ? [...services.config.trustProxy] : false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: nodeServerOptions,
    ...(https
      ? {
          https: {
            ...(https as object),
            ...nodeServerOptions,
            handshakeTimeout: limits.tlsHandshakeTimeoutMs,
          },
        }
      : {}),
    ...(fastifyOptions as object),
  }) as unknown as FastifyInstance;
  app.server.headersTimeout = limits.headersTimeoutMs;
  app.server.maxConnections = limits.maxConnections;

  // Every answer, errors and refusals included, names its request id: first of all hooks.
  // Callback hooks, not async ones: an async hook costs a promise and a microtask turn per
  // request on every route (issue 12).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // The API speaks JSON only; a text/plain body (a CORS "simple" request) answers 415.
  app.removeContentTypeParser('text/plain');
  await app.register(validatorPlugin);
  await app.register(securityPlugin);
  await app.register(cookie);
  await app.register(localePlugin);
  await app.register(errorsPlugin);
  await app.register(rateLimit, { global: false });
  await app.register(openApiPlugin);
  await app.register(authPlugin, {
    apiTokens: services.apiTokens,
    users: services.users,
    metricsAllow: services.config.metricsAllow,
  });
  // Latency per route pattern (never the raw URL, whose ids would make a series per request).
  app.addHook('onResponse', (request, reply, done) => {
    services.metrics.observeHttp(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  // After the auth plugin's own onRoute hook, so each entry shows the auth it settled on.
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, auth: route.config?.auth });
    }
  });
  healthRoutes(app, services);
  metricsRoutes(app, services);
  sessionRoutes(app, services);
  apiTokenRoutes(app, services);
  providerRoutes(app, services);
  linkRoutes(app, services);
  eventRoutes(app, services);
  clusterRoutes(app, services);
  authorizationRoutes(app, services);
  connectionRoutes(app, services);
  reauthorizationRoutes(app, services);
  mailServerRoutes(app, services);
  mailHandlerRoutes(app, services);
  issueRoutes(app, services);
  webhookRoutes(app, services);
  uiRoutes(app, services);
  // The hottest reads' cached answers skip Fastify (issue 12); a debug level logs every read,
  // which only the routes do.
  if (!DEBUG_LEVELS.has(services.log.level)) installFastPath(app, services, requestIdOf);
  await app.ready();
  return app;
}
