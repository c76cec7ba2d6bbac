import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { jsonHandler, startHttpsPeer } from '../peers/https-server.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import { closedPort } from '../support/ports.js';
import {
  ALICE,
  authorizeAccount,
  createTestLink,
  startTestProvider,
  type TestProvider,
} from '../support/worlds.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

for (const dialect of Dialects) {
  describe(`retention on ${dialect}`, () => {
    let provider: TestProvider;
    let clock: ReturnType<typeof createManualClock>;
    let outlink: TestOutlink;

    before(async () => {
      provider = await startTestProvider({ accounts: [ALICE] });
    });
    after(async () => {
      await provider?.close();
    });
    beforeEach(async () => {
      clock = createManualClock();
    });
    afterEach(async () => {
      await outlink?.close();
    });

    const rows = (table: 'events' | 'webhook_deliveries' | 'authorization_flows') =>
      outlink.services.store.db.selectFrom(table).selectAll().execute();
    const flowStatuses = async () =>
      (await rows('authorization_flows')).map((f) => f.status).sort();

    it('the scheduler prunes finished flows after 1 day, deliveries after 30, events after 90, hourly', async () => {
      const receiver = await startHttpsPeer(jsonHandler({}, 204));
      try {
        outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch });
        const headers = await outlink.adminHeaders();
        for (const url of [
          `${receiver.origin}/ok`,
          `https://127.0.0.1:${await closedPort()}/down`,
        ]) {
          const hook = await outlink.app.inject({
            method: 'POST',
            url: '/api/v1/webhooks',
            headers,
            payload: { url },
          });
          assert.equal(hook.statusCode, 201, hook.body);
        }
        const start = clock.now().getTime();
        const linkId = await createTestLink(outlink, provider);
        await authorizeAccount(outlink, provider, linkId, ALICE);
        const pending = await outlink.app.inject({
          method: 'POST',
          url: `/api/v1/links/${linkId}/authorizations`,
          headers,
          payload: {},
        });
        assert.equal(pending.statusCode, 201, pending.body);
        // One delivery delivered, one still being retried.
        assert.equal(await outlink.services.webhookDispatcher.tick(), 2);
        assert.deepEqual((await rows('webhook_deliveries')).map((d) => d.status).sort(), [
          'delivered',
          'pending',
        ]);
        assert.deepEqual(await flowStatuses(), ['pending', 'succeeded']);
        const eventsAtStart = (await rows('events')).length;
        const { scheduler } = outlink.services;
        const tickAt = async (ms: number) => {
          clock.set(new Date(start + ms));
          await scheduler.tick();
        };

        // The first tick prunes (nothing is old yet) and holds off the next pass for an hour.
        await tickAt(0);
        assert.deepEqual(await flowStatuses(), ['pending', 'succeeded']);
        await tickAt(DAY);
        assert.deepEqual(await flowStatuses(), ['pending', 'succeeded']);
        // Both are over a day old now, but the last pass was less than an hour ago.
        await tickAt(DAY + 30 * MINUTE);
        assert.deepEqual(await flowStatuses(), ['pending', 'succeeded']);
        await tickAt(DAY + HOUR);
        assert.deepEqual(await flowStatuses(), []);

        // Each tick has refreshed the connection: younger events than the first ones.
        await tickAt(30 * DAY + HOUR);
        assert.deepEqual(
          (await rows('webhook_deliveries')).map((d) => d.status),
          ['pending'],
        );
        assert.ok((await rows('events')).length > eventsAtStart);

        await tickAt(90 * DAY + HOUR);
        const left = await rows('events');
        const cutoff = new Date(start + 90 * DAY + HOUR - 90 * DAY).toISOString();
        assert.ok(left.length > 0);
        assert.ok(
          left.every((e) => e.at >= cutoff),
          'an event older than 90 days is left',
        );
        assert.ok(left.every((e) => e.type !== 'link.created'));
        // The delivery still being retried is kept whatever its age.
        assert.deepEqual(
          (await rows('webhook_deliveries')).map((d) => d.status),
          ['pending'],
        );
      } finally {
        await receiver.close();
      }
    });

    it('keeps everything when a setting is 0, and prunes by the configured days', async () => {
      outlink = await startOutlink(dialect, {
        clock,
        fetch: provider.as.fetch,
        env: {
          OUTLINK_RETAIN_EVENTS_DAYS: '0',
          OUTLINK_RETAIN_AUTHORIZATION_FLOWS_DAYS: '3',
        },
      });
      const linkId = await createTestLink(outlink, provider);
      await authorizeAccount(outlink, provider, linkId, ALICE);
      const events = (await rows('events')).length;
      clock.advance(3 * DAY - MINUTE);
      await outlink.services.scheduler.tick();
      assert.equal((await rows('authorization_flows')).length, 1);
      clock.advance(HOUR);
      await outlink.services.scheduler.tick();
      assert.equal((await rows('authorization_flows')).length, 0);
      clock.advance(1_000 * DAY);
      await outlink.services.scheduler.tick();
      assert.ok((await rows('events')).length >= events);
    });
  });
}
