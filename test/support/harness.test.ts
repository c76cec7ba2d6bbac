import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dialects, startOutlink } from './harness.js';

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
