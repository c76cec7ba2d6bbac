import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { HealthResponse } from '../../schemas/health.js';
import type { Services } from '../../services/index.js';

/** Probes and the OpenAPI document; public, and outside `/api/v1`. */
export function healthRoutes(
  app: FastifyInstance,
  {
    store,
    schedulerRunning,
  }: Pick<Services, 'store'> & Partial<Pick<Services, 'schedulerRunning'>>,
): void {
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process answers', response: { 200: HealthResponse } },
    handler: async () => ({ status: 'ok', checks: {} }),
  });

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      summary:
        'The database answers and every migration is applied; also whether the refresh scheduler runs',
      response: { 200: HealthResponse, 503: HealthResponse },
    },
    handler: async (_req, reply) => {
      const checks: Record<string, string> = {};
      try {
        await store.ping();
        checks.database = 'ok';
        const pending = await store.pendingMigrations();
        checks.migrations = pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`;
      } catch {
        checks.database = 'unreachable';
      }
      const ok = Object.values(checks).every((v) => v === 'ok') && checks.migrations !== undefined;
      // Reported, not required: in a cluster the scheduler may run in worker processes only.
      if (schedulerRunning) checks.scheduler = schedulerRunning() ? 'running' : 'stopped';
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    },
  });

  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());
}
