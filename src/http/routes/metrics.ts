import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

/**
 * `GET /metrics`: the Prometheus exposition (issue 13 item 5), outside `/api/v1` where
 * scrapers look for it. Readable with a `metrics:read` (or admin) API token, or from an
 * address in `OUTLINK_METRICS_ALLOW`.
 */
export function metricsRoutes(app: FastifyInstance, { metrics }: Pick<Services, 'metrics'>): void {
  app.get('/metrics', {
    config: { auth: 'metrics:read' },
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics (metrics:read token or an OUTLINK_METRICS_ALLOW address)',
      security: [{ bearer: [] }],
    },
    handler: async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.header('cache-control', 'no-store').type(contentType).send(body);
    },
  });
}
