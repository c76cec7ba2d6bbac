import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GENERATED_CERT_FILE } from '../../src/crypto/tls-certificate.js';
import { fastPathOf } from '../../src/http/fast-path.js';
import { databaseEnv, startChild } from '../cli/cli-harness.js';
import { Dialects, googleLink, startOutlink, type TestOutlink } from '../support/harness.js';
import { comparableHeaders, getOverSocket } from '../support/wire.js';

/**
 * Issue 12: `GET /api/v1/links/:id` is answered from an in-process cache of link views, and
 * an update or a delete is still seen at once — by the process that made it and by a second
 * real `outlink serve` on the same database, which learns it through the `cache_epochs` row.
 * Over a socket the route's fast path answers what the cache holds (both processes here):
 * the same bytes and headers as the route, and never a view the route would not serve.
 */
for (const dialect of Dialects) {
  describe(`a changed link is never served stale on ${dialect}`, () => {
    let outlink: TestOutlink;
    let admin: Record<string, string>;
    let token = '';
    let peer: ReturnType<typeof startChild>;
    let peerPort = 0;
    let ca = '';

    const create = async (name: string) => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/links',
        headers: admin,
        payload: googleLink({ name, clientSecret: 'link-view-cache-secret' }),
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };
    const rename = async (id: string, name: string) => {
      const res = await outlink.app.inject({
        method: 'PATCH',
        url: `/api/v1/links/${id}`,
        headers: admin,
        payload: { name },
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    const remove = async (id: string) => {
      const res = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/links/${id}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    let port = 0;
    const fast = () => fastPathOf(outlink.app)?.served['/api/v1/links/:id'] ?? 0;
    /** Through the route (`inject`), then over a socket, where the fast path may answer. */
    const here = async (id: string) => {
      const res = await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${id}`,
        headers: { authorization: `Bearer ${token}` },
      });
      const before = fast();
      const wire = await getOverSocket(port, `/api/v1/links/${id}`, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(wire.statusCode, res.statusCode, wire.body);
      assert.equal(wire.body, res.body);
      assert.deepEqual(comparableHeaders(wire.headers), comparableHeaders(res.headers));
      // A view the route just cached is the fast path's; a refusal or a miss is the route's.
      assert.equal(fast(), before + (res.statusCode === 200 ? 1 : 0));
      return { status: res.statusCode, name: (res.json() as { name?: string }).name };
    };
    const there = (id: string) =>
      new Promise<{ status: number; name: string | undefined }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: peerPort,
            path: `/api/v1/links/${id}`,
            ca,
            servername: 'localhost',
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                name: (JSON.parse(body) as { name?: string }).name,
              }),
            );
          },
        );
        req.on('error', reject).end();
      });

    before(async () => {
      outlink = await startOutlink(dialect);
      admin = await outlink.adminHeaders();
      token = (await outlink.tokenHeaders()).authorization!.replace(/^Bearer /, '');
      await outlink.app.listen({ host: '127.0.0.1', port: 0 });
      port = (outlink.app.server.address() as AddressInfo).port;
      peer = startChild(['serve'], {
        env: databaseEnv(outlink.database, {
          OUTLINK_LISTEN: '127.0.0.1:0',
          OUTLINK_LOG_LEVEL: 'info',
        }),
        timeoutMs: 240_000,
      });
      const banner = await peer.waitFor(
        /listening on https:\/\/127\.0\.0\.1:(\d+)\)/,
        'stdout',
        60_000,
      );
      peerPort = Number(/:(\d+)\)/.exec(banner)?.[1]);
      ca = readFileSync(join(outlink.database.dataDir, GENERATED_CERT_FILE), 'utf8');
    });
    after(async () => {
      peer?.kill();
      await outlink?.close();
    });

    it('in the process that changed it', async () => {
      const id = await create('Cached here');
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await here(id), { status: 200, name: 'Cached here' });
      await rename(id, 'Renamed here');
      assert.deepEqual(await here(id), { status: 200, name: 'Renamed here' });
      await remove(id);
      assert.equal((await here(id)).status, 404);
    });

    it('in another outlink serve process on the same database', async () => {
      const id = await create('Cached there');
      const other = await create('Untouched');
      // Both cached over there: the second request of each is answered from the cache.
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await there(id), { status: 200, name: 'Cached there' });
        assert.deepEqual(await there(other), { status: 200, name: 'Untouched' });
      }
      await rename(id, 'Renamed there');
      assert.deepEqual(await there(id), { status: 200, name: 'Renamed there' });
      assert.deepEqual(await there(other), { status: 200, name: 'Untouched' });
      await remove(id);
      assert.equal((await there(id)).status, 404);
      assert.deepEqual(await there(other), { status: 200, name: 'Untouched' });
    });
  });
}
