import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dialects, startOutlink } from '../support/harness.js';

interface OpenApi {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

for (const dialect of Dialects) {
  describe(`probes and API document on ${dialect}`, () => {
    it('answers /healthz and /readyz without credentials', async () => {
      const outlink = await startOutlink(dialect);
      try {
        const health = await outlink.app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(health.statusCode, 200);
        assert.deepEqual(health.json(), { status: 'ok', checks: {} });
        const ready = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 200, ready.body);
        assert.deepEqual(ready.json(), {
          status: 'ok',
          checks: { database: 'ok', migrations: 'ok', scheduler: 'stopped' },
        });
      } finally {
        await outlink.close();
      }
    });

    it('reports on /readyz whether the refresh scheduler runs', async () => {
      const outlink = await startOutlink(dialect);
      const { scheduler } = outlink.services as unknown as {
        scheduler: { start(): void; stop(): Promise<void> };
      };
      try {
        scheduler.start();
        const running = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(running.statusCode, 200, running.body);
        assert.equal(
          (running.json() as { checks: { scheduler: string } }).checks.scheduler,
          'running',
        );
        await scheduler.stop();
        const stopped = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        // Reported, not required: a web process of a cluster may leave it to the workers.
        assert.equal(stopped.statusCode, 200, stopped.body);
        assert.equal(
          (stopped.json() as { checks: { scheduler: string } }).checks.scheduler,
          'stopped',
        );
      } finally {
        await scheduler.stop();
        await outlink.close();
      }
    });

    it('answers /readyz 503 while a migration is pending', async () => {
      const outlink = await startOutlink(dialect);
      try {
        const db = outlink.services.store.db;
        await db.deleteFrom('kysely_migration' as never).execute();
        const ready = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 503, ready.body);
        const body = ready.json() as { status: string; checks: Record<string, string> };
        assert.equal(body.status, 'unavailable');
        assert.equal(body.checks.database, 'ok');
        assert.match(body.checks.migrations ?? '', /^pending: 0001/);
        // The liveness probe does not care: the process still answers.
        const health = await outlink.app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(health.statusCode, 200);
      } finally {
        await outlink.close();
      }
    });

    it('answers /readyz 503 when the database is gone, and says nothing internal', async () => {
      const outlink = await startOutlink(dialect);
      try {
        await outlink.services.store.close();
        const ready = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 503, ready.body);
        assert.deepEqual(ready.json(), {
          status: 'unavailable',
          checks: { database: 'unreachable', scheduler: 'stopped' },
        });
        const health = await outlink.app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(health.statusCode, 200);
      } finally {
        await outlink.close();
      }
    });

    it('serves an OpenAPI 3 document of the /api/v1 routes at /api/docs', async () => {
      const outlink = await startOutlink(dialect);
      try {
        const res = await outlink.app.inject({ method: 'GET', url: '/api/docs' });
        assert.equal(res.statusCode, 200, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const doc = res.json() as OpenApi;
        assert.match(doc.openapi, /^3\./);
        assert.equal(doc.info.title, 'Outlink API');
        const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
        assert.deepEqual(methods('/api/v1/links'), ['get', 'post']);
        assert.deepEqual(methods('/api/v1/links/{id}'), ['delete', 'get', 'patch']);
        assert.deepEqual(methods('/api/v1/events'), ['get']);
        assert.deepEqual(methods('/api/v1/api-tokens'), ['get', 'post']);
        assert.deepEqual(methods('/api/v1/session'), ['delete', 'get', 'post']);
        assert.ok(doc.paths['/api/v1/links']?.post?.responses?.['201'], 'no 201 for POST /links');
        assert.ok(doc.paths['/api/v1/links']?.post?.responses?.['401'], 'no 401 for POST /links');
        assert.deepEqual(Object.keys(doc.components?.securitySchemes ?? {}).sort(), [
          'bearer',
          'session',
        ]);
        assert.equal(doc.paths['/api/docs'], undefined, 'the document lists itself');
      } finally {
        await outlink.close();
      }
    });
  });
}
