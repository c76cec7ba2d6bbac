import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Services } from '../services/index.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin } from './plugins/errors.js';
import { localePlugin } from './plugins/locale.js';
import { openApiPlugin } from './plugins/openapi.js';
import { securityPlugin } from './plugins/security.js';
import { validatorPlugin } from './plugins/validator.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { authorizationRoutes } from './routes/authorizations.js';
import { connectionRoutes } from './routes/connections.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { issueRoutes } from './routes/issues.js';
import { linkRoutes } from './routes/links.js';
import { mailHandlerRoutes } from './routes/mail-handler.js';
import { mailServerRoutes } from './routes/mail-servers.js';
import { providerRoutes } from './routes/providers.js';
import { sessionRoutes } from './routes/session.js';
import { uiRoutes } from './routes/ui.js';
import { webhookRoutes } from './routes/webhooks.js';

/** No field of any route needs more; larger bodies answer 413 `body_too_large`. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** The services the HTTP application serves; each route takes the part it uses. */
export type AppServices = Pick<
  Services,
  | 'config'
  | 'log'
  | 'clock'
  | 'store'
  | 'users'
  | 'apiTokens'
  | 'links'
  | 'events'
  | 'flows'
  | 'connections'
  | 'tokens'
  | 'webhooks'
  | 'mailServers'
  | 'mailHandler'
  | 'issues'
>;

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
  await app.register(validatorPlugin);
  await app.register(securityPlugin);
  await app.register(cookie);
  await app.register(localePlugin);
  await app.register(errorsPlugin);
  await app.register(rateLimit, { global: false });
  await app.register(openApiPlugin);
  await app.register(authPlugin, { apiTokens: services.apiTokens, users: services.users });

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
  mailHandlerRoutes(app, services);
  issueRoutes(app, services);
  webhookRoutes(app, services);
  uiRoutes(app, services);
  await app.ready();
  return app;
}
