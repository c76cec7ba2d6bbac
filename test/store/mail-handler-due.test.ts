/**
 * Issue 14: a mailbox whose run died with its holder (a killed cluster node) is due as soon
 * as the run's lease is gone or has run out — not at its next poll, which the run pushed out
 * when it started — and never while a live lease says a run is going on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLeasesRepository } from '../../src/store/repositories/leases.js';
import {
  createMailHandlerStateRepository,
  type HandlerStatus,
} from '../../src/store/repositories/mail-handler-state.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

const PREFIX = 'mail-handler:';
const NOW = new Date();
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1_000);

for (const dialect of Dialects) {
  describe(`mail handler due mailboxes on ${dialect}`, () => {
    let outlink: TestOutlink;
    let id: string;
    before(async () => {
      outlink = await startOutlink(dialect);
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/mail-servers',
        headers: await outlink.adminHeaders(),
        payload: {
          name: 'Support',
          protocol: 'imap',
          host: 'mail.example.test',
          port: 993,
          security: 'tls',
          username: 'support@example.test',
          authentication: { method: 'password', password: 'a mailbox password' },
          handlerEnabled: true,
          issueKeyPrefix: 'DUE',
          pollIntervalSeconds: 300,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      id = (res.json() as { id: string }).id;
    });
    after(() => outlink?.close());

    /** Whether the mailbox is due now, in `status` with its next poll 5 minutes away. */
    const dueWith = async (status: HandlerStatus, lease?: { expiresIn: number }) => {
      const { db } = outlink.services.store;
      const states = createMailHandlerStateRepository(db);
      await states.save({
        mailServerId: id,
        status,
        lastRunAt: NOW.toISOString(),
        lastSuccessAt: null,
        nextRunAt: at(300).toISOString(),
        lastError: null,
        lastCounts: null,
        uidValidity: null,
        updatedAt: NOW.toISOString(),
      });
      await db.deleteFrom('leases').where('name', '=', `${PREFIX}${id}`).execute();
      if (lease) {
        const taken = await createLeasesRepository(db).tryAcquire(
          `${PREFIX}${id}`,
          'node-a',
          at(lease.expiresIn - 60),
          at(lease.expiresIn),
        );
        assert.ok(taken);
      }
      return (await states.due(NOW.toISOString(), 10, PREFIX)).includes(id);
    };

    test('a run whose holder died: due once its lease is gone or has run out', async () => {
      assert.equal(await dueWith('running'), true, 'running, no lease');
      assert.equal(await dueWith('running', { expiresIn: -1 }), true, 'running, lease run out');
      assert.equal(await dueWith('running', { expiresIn: 20 }), false, 'running, lease held');
    });

    test('a mailbox at rest waits for its next poll, lease or not', async () => {
      assert.equal(await dueWith('idle'), false);
      assert.equal(await dueWith('failed', { expiresIn: -1 }), false);
    });
  });
}
