import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManualClock } from '../../src/domain/clock.js';
import { WEBHOOK_MAX_ATTEMPTS } from '../../src/services/webhooks.js';
import { startHttpsPeer } from '../peers/https-server.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';
import {
  authorizeAccount,
  createTestLink,
  startTestProvider,
  type TestProvider,
} from '../support/worlds.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * A webhook receiver that accepts every request and never answers: the worst receiver
 * there is. Counts the requests it holds at once.
 */
async function startSilentReceiver() {
  const paths: string[] = [];
  const gauge = { inFlight: 0, max: 0 };
  const held = new Set<ServerResponse>();
  const peer = await startHttpsPeer((req: IncomingMessage, res: ServerResponse) => {
    paths.push(req.url ?? '');
    gauge.inFlight++;
    gauge.max = Math.max(gauge.max, gauge.inFlight);
    held.add(res);
    res.on('close', () => {
      gauge.inFlight--;
      held.delete(res);
    });
  });
  return {
    url: (path: string) => `${peer.origin}${path}`,
    paths,
    gauge,
    async heard(count: number) {
      for (let waited = 0; paths.length < count; waited += 10) {
        assert.ok(waited < 10 * SECOND, `the receiver heard ${paths.length} of ${count}`);
        await sleep(10);
      }
    },
    close: () => peer.close(),
  };
}

type SilentReceiver = Awaited<ReturnType<typeof startSilentReceiver>>;

for (const dialect of Dialects) {
  describe(`webhook dispatcher on ${dialect}`, () => {
    let provider: TestProvider;
    let receiver: SilentReceiver;
    let clock: ReturnType<typeof createManualClock>;
    let outlink: TestOutlink;
    let linkId: string;
    const timeoutMs = 1000;

    before(async () => {
      provider = await startTestProvider({
        accounts: ['alice@example.test', 'bob@example.test'],
      });
    });
    after(async () => {
      await provider?.close();
    });
    beforeEach(async () => {
      clock = createManualClock();
      provider.proxy.always({ kind: 'pass' });
      receiver = await startSilentReceiver();
    });
    afterEach(async () => {
      await outlink?.close();
      await receiver?.close();
    });

    const start = async (concurrency = 4) => {
      outlink = await startOutlink(dialect, {
        clock,
        fetch: provider.as.fetch,
        webhookOptions: { timeoutMs, concurrency },
      });
      linkId = await createTestLink(outlink, provider);
    };
    const createHook = async (path: string) => {
      const res = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: await outlink.adminHeaders(),
        payload: { url: receiver.url(path) },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };
    const deliveries = () =>
      outlink.services.store.db.selectFrom('webhook_deliveries').selectAll().execute();
    const timed = async <T>(run: () => Promise<T>) => {
      const started = performance.now();
      const value = await run();
      return { value, ms: performance.now() - started };
    };

    it('a receiver that never answers holds up neither the scheduler nor a refresh', async () => {
      await start();
      await createHook('/silent');
      const id = await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      assert.equal((await deliveries()).length, 1);
      const { scheduler, webhookDispatcher, tokens } = outlink.services;

      // A due refresh and a due delivery: the scheduler refreshes and sends nothing.
      clock.advance(56 * MINUTE);
      const tick = await timed(() => scheduler.tick());
      assert.deepEqual(tick.value, { due: 1, refreshed: 1, failed: 0 });
      assert.equal(receiver.paths.length, 0, 'the scheduler sent a webhook');

      // While the dispatcher waits on the receiver, refreshes run at once.
      const pass = timed(() => webhookDispatcher.tick());
      let passEnded = false;
      void pass.then(() => {
        passEnded = true;
      });
      await receiver.heard(1);
      clock.advance(56 * MINUTE);
      const during = await timed(() => scheduler.tick());
      assert.deepEqual(during.value, { due: 1, refreshed: 1, failed: 0 });
      const forced = await timed(() => tokens.refreshNow(id, { kind: 'system' }));
      // Order, not time (a loaded machine may take longer than the timeout): both refreshes
      // are done while the delivery still waits on the silent receiver.
      assert.equal(passEnded, false, `refreshes took ${during.ms + forced.ms} ms`);
      assert.equal((await deliveries())[0]?.attempts, 0, 'the delivery is still in flight');

      // The attempt gives up at its timeout and waits for its first backoff step.
      const passed = await pass;
      assert.equal(passed.value, 1);
      assert.ok(passed.ms >= timeoutMs, `the pass ended after ${passed.ms} ms`);
      assert.ok(passed.ms < timeoutMs + 2 * SECOND, `the pass ended after ${passed.ms} ms`);
      const [row] = await deliveries();
      assert.equal(row?.status, 'pending');
      assert.equal(row?.attempts, 1);
      assert.match(row?.last_error ?? '', /^TimeoutError: /);
      assert.equal(
        row?.next_attempt_at,
        new Date(clock.now().getTime() + 5 * SECOND).toISOString(),
      );
    });

    it('sends to different webhooks at once, never more than `concurrency`', async () => {
      await start(2);
      for (const path of ['/a', '/b', '/c']) await createHook(path);
      await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      const pass = await timed(() => outlink.services.webhookDispatcher.tick());
      assert.equal(pass.value, 3);
      assert.deepEqual([...receiver.paths].sort(), ['/a', '/b', '/c']);
      assert.equal(receiver.gauge.max, 2);
      // Two rounds of one timeout each: two at once, then the third.
      assert.ok(pass.ms >= 2 * timeoutMs && pass.ms < 3 * timeoutMs + SECOND, `${pass.ms} ms`);
    });

    it('a dead receiver costs one timeout per pass, is retried with backoff, then failed', async () => {
      await start();
      await createHook('/dead');
      await authorizeAccount(outlink, provider, linkId, 'alice@example.test');
      await authorizeAccount(outlink, provider, linkId, 'bob@example.test');
      const { webhookDispatcher } = outlink.services;
      // Two deliveries for one receiver: the second waits for the next pass.
      const first = await timed(() => webhookDispatcher.tick());
      assert.equal(first.value, 1);
      assert.ok(first.ms < 2 * timeoutMs, `the pass took ${first.ms} ms`);
      assert.deepEqual((await deliveries()).map((d) => d.attempts).sort(), [0, 1]);
      await webhookDispatcher.tick();
      assert.deepEqual(
        (await deliveries()).map((d) => d.attempts),
        [1, 1],
      );

      // Each wait doubles from 5 s; nothing is sent before it is over; then it gives up.
      for (let attempt = 2; attempt <= WEBHOOK_MAX_ATTEMPTS; attempt++) {
        const wait = Math.min(3_600 * SECOND, 5 * SECOND * 2 ** (attempt - 2));
        clock.advance(wait - 1);
        assert.equal(await webhookDispatcher.tick(), 0);
        clock.advance(1);
        assert.equal(await webhookDispatcher.tick(), 1);
        assert.equal(await webhookDispatcher.tick(), 1);
        const rows = await deliveries();
        assert.deepEqual(
          rows.map((d) => d.attempts),
          [attempt, attempt],
        );
      }
      const rows = await deliveries();
      assert.deepEqual(
        rows.map((d) => d.status),
        ['failed', 'failed'],
      );
      assert.equal(receiver.paths.length, 2 * WEBHOOK_MAX_ATTEMPTS);
      clock.advance(24 * 60 * MINUTE);
      assert.equal(await webhookDispatcher.tick(), 0);
    });
  });
}
