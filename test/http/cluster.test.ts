import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createClusterNodesRepository } from '../../src/store/repositories/cluster-nodes.js';
import { createLeases } from '../../src/tokens/leases.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

interface Body {
  items: {
    id: string;
    status: string;
    pid: number;
    holds: { connections: string[]; mailServers: string[] };
  }[];
  leaseSeconds: number;
}

for (const dialect of Dialects) {
  describe(`GET /api/v1/cluster and /admin/cluster on ${dialect}`, () => {
    let outlink: TestOutlink;
    before(async () => {
      outlink = await startOutlink(dialect, { env: { OUTLINK_LEASE_SECONDS: '5' } });
    });
    after(() => outlink.close());

    test('shows this node, the work it holds, and a silent node as gone', async () => {
      const { services } = outlink;
      await services.node.start('serve');
      const me = services.node.identity.id;
      const connection = randomUUID();
      const mailServer = randomUUID();
      const leases = createLeases({ db: services.store.db, clock: services.clock });
      assert.ok(await leases.tryAcquire(`refresh:${connection}`, me, 5_000));
      assert.ok(await leases.tryAcquire(`mail-handler:${mailServer}`, me, 5_000));
      assert.ok(await leases.tryAcquire('webhook-delivery', me, 5_000));
      const long = new Date(Date.now() - 60_000).toISOString();
      await createClusterNodesRepository(services.store.db).register({
        id: 'silent-node',
        role: 'worker',
        hostname: 'elsewhere',
        pid: 7,
        version: '0.0.1',
        schema_version: 11,
        started_at: long,
        last_heartbeat_at: long,
        stopped_at: null,
      });

      const headers = await outlink.tokenHeaders();
      const res = await outlink.app.inject({ url: '/api/v1/cluster', headers });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as Body;
      assert.equal(body.leaseSeconds, 5);
      const mine = body.items.find((n) => n.id === me);
      assert.equal(mine?.status, 'alive');
      assert.equal(mine?.pid, process.pid);
      assert.deepEqual(mine?.holds, { connections: [connection], mailServers: [mailServer] });
      const silent = body.items.find((n) => n.id === 'silent-node');
      assert.equal(silent?.status, 'gone');
      assert.deepEqual(silent?.holds, { connections: [], mailServers: [] });

      const anonymous = await outlink.app.inject({ url: '/api/v1/cluster' });
      assert.equal(anonymous.statusCode, 401);

      const cookie = await outlink.adminHeaders();
      const en = await outlink.app.inject({ url: '/admin/cluster?lang=en', headers: cookie });
      assert.equal(en.statusCode, 200);
      assert.match(en.body, /href="\/admin\/cluster"/);
      assert.match(en.body, new RegExp(`data-node-id="${me}" data-status="alive"`));
      assert.match(en.body, /data-node-id="silent-node" data-status="gone"/);
      assert.match(en.body, /1 refreshing, 1 mailboxes/);
      assert.match(en.body, />Gone</);
      const ja = await outlink.app.inject({ url: '/admin/cluster?lang=ja', headers: cookie });
      assert.match(ja.body, /クラスター/);
      assert.match(ja.body, />応答なし</);
      assert.match(ja.body, /更新中 1 件、メールボックス 1 件/);

      // A clean stop is shown as stopped, its work no longer counted.
      await services.node.stop();
      const stopped = (
        (await outlink.app.inject({ url: '/api/v1/cluster', headers })).json() as Body
      ).items.find((n) => n.id === me);
      assert.equal(stopped?.status, 'stopped');
      assert.deepEqual(stopped?.holds, { connections: [], mailServers: [] });
    });
  });
}
