import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestDatabase, Dialects, startOutlink } from './harness.js';
import { closedPort } from './ports.js';

for (const dialect of Dialects) {
  describe(`harness on ${dialect}`, () => {
    it('starts a ready app with an admin who can sign in', async () => {
      const outlink = await startOutlink(dialect);
      try {
        assert.equal(outlink.services.store.dialect, dialect);
        const ready = await outlink.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 200);
        const headers = await outlink.adminHeaders();
        const me = await outlink.app.inject({ method: 'GET', url: '/api/v1/session', headers });
        assert.deepEqual(me.json(), { kind: 'user', actor: 'admin' });
      } finally {
        await outlink.close();
      }
    });
  });
}

describe('harness without PostgreSQL', () => {
  it('fails, naming scripts/test, when the server refuses connections', async () => {
    const port = await closedPort();
    await assert.rejects(
      createTestDatabase('postgres', {
        adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      }),
      {
        message: `PostgreSQL for the tests is not usable at 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): run scripts/test, which installs PostgreSQL, starts it and lets the tests sign in`,
      },
    );
  });
});
