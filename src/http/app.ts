import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Services } from '../main/compose.js';
import { ErrorResponse } from '../schemas/common.js';
import { LinkResponse } from '../schemas/links.js';
import { registerAuth } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/errors.js';
import { typeboxValidatorCompiler } from './plugins/validator.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { authorizationRoutes } from './routes/authorizations.js';
import { connectionRoutes } from './routes/connections.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { linkRoutes } from './routes/links.js';
import { mailServerRoutes } from './routes/mail-servers.js';
import { providerRoutes } from './routes/providers.js';
import { sessionRoutes } from './routes/session.js';
import { uiRoutes } from './routes/ui.js';
import { webhookRoutes } from './routes/webhooks.js';

/** No field of any route needs more; larger bodies answer 413 `body_too_large`. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** One registered route, as `routesOf` lists it. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  /** Who may call it, as the auth plugin decided; undefined outside `/api/v1`. */
  readonly auth: string | undefined;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app registered (HEAD twins included), so tests can walk the table. */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

export interface AppOptions {
  /** Extra Fastify options: `https` for the listener, and the like. */
  readonly fastify?: Partial<FastifyServerOptions> & { https?: unknown };
}

/**
 * Builds the HTTP application over the services. Tests call this and `inject()` without a
 * port; `serve` adds the HTTPS listener.
 */
export async function buildApp(
  services: Services,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: services.config.trustProxy ?? false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...(options.fastify as object),
  }) as unknown as FastifyInstance;

  // The API speaks JSON only; a text/plain body (a CORS "simple" request) answers 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.addSchema(ErrorResponse);
  app.addSchema(LinkResponse);
  registerErrorHandling(app);

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: { maxAge: 15552000 },
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Outlink API',
        version: '1',
        description: 'Outgoing application links and their tokens.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'outlink_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });

  registerAuth(app, services);
  // After the auth plugin's own onRoute hook, so each entry shows the auth it settled on.
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, auth: route.config?.auth });
    }
  });
  healthRoutes(app, services);
  sessionRoutes(app, services);
  apiTokenRoutes(app, services);
  providerRoutes(app, services);
  linkRoutes(app, services);
  eventRoutes(app, services);
  authorizationRoutes(app, services);
  connectionRoutes(app, services);
  mailServerRoutes(app, services);
  webhookRoutes(app, services);
  uiRoutes(app, services);
  await app.ready();
  return app;
}
