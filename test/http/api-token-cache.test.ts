import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GENERATED_CERT_FILE } from '../../src/crypto/tls-certificate.js';
import { databaseEnv, startChild } from '../cli/cli-harness.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

/**
 * Issue 12: API tokens are verified from an in-process cache, and a revoked token is still
 * refused at once — by the process that revoked it and by a second real `outlink serve` on
 * the same database, which learns it through the `cache_epochs` row.
 */
for (const dialect of Dialects) {
  describe(`a revoked API token is refused at once on ${dialect}`, () => {
    let outlink: TestOutlink;
    let admin: Record<string, string>;
    let peer: ReturnType<typeof startChild>;
    let peerPort = 0;
    let ca = '';

    const create = async (name: string) => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: admin,
        payload: { name },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; token: string };
    };
    const revoke = async (id: string) => {
      const res = await outlink.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-tokens/${id}`,
        headers: admin,
      });
      assert.equal(res.statusCode, 204, res.body);
    };
    const here = async (token: string) =>
      (
        await outlink.app.inject({
          method: 'GET',
          url: '/api/v1/links',
          headers: { authorization: `Bearer ${token}` },
        })
      ).statusCode;
    const there = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: peerPort,
            path: '/api/v1/links',
            ca,
            servername: 'localhost',
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject).end();
      });

    before(async () => {
      outlink = await startOutlink(dialect);
      admin = await outlink.adminHeaders();
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

    it('in the process that revoked it', async () => {
      const { id, token } = await create('same process');
      for (let i = 0; i < 3; i++) assert.equal(await here(token), 200);
      await revoke(id);
      assert.equal(await here(token), 401);
    });

    it('in another outlink serve process on the same database', async () => {
      const { id, token } = await create('other process');
      const other = await create('still valid');
      // Both cached over there: the second request of each is answered from the cache.
      for (let i = 0; i < 3; i++) {
        assert.equal(await there(token), 200);
        assert.equal(await there(other.token), 200);
      }
      await revoke(id);
      assert.equal(await there(token), 401);
      assert.equal(await there(other.token), 200, 'an unrevoked token still works');
      assert.equal(await here(token), 401);
    });
  });
}
