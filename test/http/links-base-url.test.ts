import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Dialects, googleLink, startOutlink } from '../support/harness.js';

const GOOGLE_AUTH = 'https://accounts.google.com/o/oauth2/v2/auth';
const suffix = (endpoint: string) =>
  createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);

for (const dialect of Dialects) {
  describe(`the base URL rules for links on ${dialect}`, () => {
    it('refuses create and update with 409 insecure_base_url while the base URL is http://', async () => {
      const secure = await startOutlink(dialect);
      let id: string;
      try {
        const res = await secure.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers: await secure.adminHeaders(),
          payload: googleLink(),
        });
        assert.equal(res.statusCode, 201, res.body);
        id = (res.json() as { id: string }).id;
      } finally {
        await secure.close({ drop: false });
      }

      // The same data served under an http:// base URL, as behind a misconfigured proxy.
      const insecure = await startOutlink(dialect, {
        database: secure.database,
        env: { OUTLINK_BASE_URL: 'http://outlink.example.test:8080' },
      });
      try {
        const headers = await insecure.adminHeaders();
        const before = await insecure.services.store.db.selectFrom('links').selectAll().execute();
        const created = await insecure.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers,
          payload: googleLink(),
        });
        assert.equal(created.statusCode, 409, created.body);
        assert.equal(created.json().error.code, 'insecure_base_url');
        assert.match(created.json().error.message, /http:\/\/outlink\.example\.test:8080/);
        const updated = await insecure.app.inject({
          method: 'PATCH',
          url: `/api/v1/links/${id}`,
          headers,
          payload: { description: 'changed' },
        });
        assert.equal(updated.statusCode, 409, updated.body);
        assert.equal(updated.json().error.code, 'insecure_base_url');
        assert.deepEqual(
          await insecure.services.store.db.selectFrom('links').selectAll().execute(),
          before,
        );
        // Reading stays possible, so the administrator can see what to fix.
        const shown = await insecure.app.inject({
          method: 'GET',
          url: `/api/v1/links/${id}`,
          headers,
        });
        assert.equal(shown.statusCode, 200);
      } finally {
        await insecure.close();
      }
    });

    it('warns redirect_host_ip_literal for Google when the base URL host is an IP address', async () => {
      // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): only ever used as a string here.
      const outlink = await startOutlink(dialect, {
        env: { OUTLINK_BASE_URL: 'https://192.0.2.10:8443' },
      });
      try {
        const headers = await outlink.adminHeaders();
        const google = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers,
          payload: googleLink(),
        });
        assert.equal(google.statusCode, 201, google.body);
        assert.equal(
          google.json().redirectUrl,
          `https://192.0.2.10:8443/oauth2/callback/${suffix(GOOGLE_AUTH)}`,
        );
        assert.deepEqual(
          google.json().warnings.map((w: { code: string }) => w.code),
          ['redirect_host_ip_literal'],
        );
        assert.match(google.json().warnings[0].message, /192\.0\.2\.10/);

        const id = google.json().id as string;
        const patched = await outlink.app.inject({
          method: 'PATCH',
          url: `/api/v1/links/${id}`,
          headers,
          payload: { description: 'still warned' },
        });
        assert.deepEqual(
          patched.json().warnings.map((w: { code: string }) => w.code),
          ['redirect_host_ip_literal'],
        );

        const microsoft = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers,
          payload: googleLink({ provider: 'microsoft', scopes: ['offline_access', 'openid'] }),
        });
        assert.equal(microsoft.statusCode, 201, microsoft.body);
        assert.deepEqual(microsoft.json().warnings, [], 'only Google refuses IP-literal hosts');
      } finally {
        await outlink.close();
      }
    });

    it('gives no IP-literal warning for localhost', async () => {
      const outlink = await startOutlink(dialect, {
        env: { OUTLINK_BASE_URL: 'https://localhost:9443/outlink' },
      });
      try {
        const res = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers: await outlink.adminHeaders(),
          payload: googleLink(),
        });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().warnings, []);
        assert.equal(
          res.json().redirectUrl,
          `https://localhost:9443/outlink/oauth2/callback/${suffix(GOOGLE_AUTH)}`,
        );
      } finally {
        await outlink.close();
      }
    });
  });
}
