import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Services } from '../compose.js';
import { registerAuth } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/errors.js';
import { typeboxValidatorCompiler } from './plugins/validator.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { linkRoutes } from './routes/links.js';
import { providerRoutes } from './routes/providers.js';
import { sessionRoutes } from './routes/session.js';
import { ErrorResponse } from './schemas/common.js';
import { LinkResponse } from './schemas/links.js';

/** No field of any route needs more; larger bodies answer 413 `body_too_large`. */
export const BODY_LIMIT_BYTES = 64 * 1024;

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
  healthRoutes(app, services);
  sessionRoutes(app, services);
  apiTokenRoutes(app, services);
  providerRoutes(app, services);
  linkRoutes(app, services);
  eventRoutes(app, services);
  await app.ready();
  return app;
}
