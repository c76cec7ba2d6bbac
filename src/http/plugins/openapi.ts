import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorResponse } from '../../schemas/common.js';
import { LinkResponse } from '../../schemas/links.js';
import { SESSION_COOKIE } from './auth.js';

/**
 * The OpenAPI document (`GET /api/docs`), built by @fastify/swagger from the routes' TypeBox
 * schemas in `src/schemas/`; shapes several routes share are components referenced by id.
 */
export const openApiPlugin = fp(
  async (app: FastifyInstance) => {
    app.addSchema(ErrorResponse);
    app.addSchema(LinkResponse);
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
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          },
        },
        security: [{ bearer: [] }, { session: [] }],
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
      },
    });
  },
  { name: 'outlink-openapi', fastify: '5.x' },
);
