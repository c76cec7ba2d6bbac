import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createManualClock, systemClock } from '../../src/domain/clock.js';
import { createScheduler, type Timer } from '../../src/jobs/scheduler.js';
import type { Fetch } from '../../src/oauth/discovery.js';
import { createLeases } from '../../src/tokens/leases.js';
import { databaseEnv, startChild } from '../cli/cli-harness.js';
import { oauthError } from '../peers/fault-proxy.js';
import { Dialects, startOutlink, type TestDatabase, type TestOutlink } from '../support/harness.js';
import { sqliteCommits } from '../support/sqlite-commits.js';
import {
  authorizeAccount,
  createTestLink,
  expireToken,
  startTestProvider,
  type TestProvider,
} from '../support/worlds.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type ManualClock = ReturnType<typeof createManualClock>;

async function connectionRow(outlink: TestOutlink, id: string) {
  return outlink.services.store.db
    .selectFrom('connections')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function eventsOf(outlink: TestOutlink, type: string, connectionId: string) {
  const res = await outlink.app.inject({
    method: 'GET',
    url: `/api/v1/events?type=${type}&limit=100`,
    headers: await outlink.adminHeaders(),
  });
  return (
    res.json() as { items: { connectionId?: string; data: Record<string, unknown> }[] }
  ).items.filter((e) => e.connectionId === connectionId);
}

/** A scheduler of the test's own over its Outlink's services and database, without retention. */
function schedulerOver(
  outlink: TestOutlink,
  clock: ManualClock,
  extra: Pick<Parameters<typeof createScheduler>[0], 'timer' | 'options'> = {},
) {
  const { services } = outlink;
  return createScheduler({
    db: services.store.db,
    clock,
    log: services.log,
    tokens: services.tokens,
    leases: createLeases({ db: services.store.db, clock }),
    owner: 'scheduler-test',
    ...extra,
  });
}

/**
 * Passes every request to `inner` and keeps the highest number of token requests that were
 * in flight at once, as Outlink sent them.
 */
function gaugedFetch(inner: Fetch, tokenEndpoint: string) {
  const gauge = { inFlight: 0, max: 0 };
  const fetch: Fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(tokenEndpoint)) return inner(input, init);
    gauge.inFlight++;
    gauge.max = Math.max(gauge.max, gauge.inFlight);
    try {
      const response = await inner(input, init);
      // The body too: a request is over when its answer has been read.
      const body = await response.arrayBuffer();
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } finally {
      gauge.inFlight--;
    }
  };
  return { fetch, gauge };
}

/** What oidc-provider's `grant.success` event carries, as far as the tests read it. */
interface GrantContext {
  readonly oidc: {
    readonly params?: { readonly grant_type?: unknown };
    readonly entities: { readonly RefreshToken?: { readonly accountId?: string } };
  };
}

/** Waits until `check` holds, looking every 100 ms, or fails after `ms`. */
async function waitUntil(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A timer the test fires by hand: `pending()` lists the delays of what is scheduled,
 * `fire()` runs the earliest and waits for the tick it started.
 */
function createManualTimer() {
  const scheduled: { ms: number; run: () => Promise<void> }[] = [];
  const timer: Timer = (ms, run) => {
    const entry = { ms, run };
    scheduled.push(entry);
    return () => {
      const at = scheduled.indexOf(entry);
      if (at >= 0) scheduled.splice(at, 1);
    };
  };
  return Object.assign(timer, {
    pending: () => scheduled.map((e) => e.ms),
    async fire() {
      const entry = scheduled.shift();
      assert.ok(entry, 'nothing is scheduled');
      await entry.run();
    },
    /** Runs everything scheduled now (not what those runs schedule in turn). */
    async fireAll() {
      for (const entry of scheduled.splice(0)) await entry.run();
    },
  });
}

for (const dialect of Dialects) {
  describe(`scheduler on ${dialect}`, () => {
    let provider: TestProvider;
    let clock: ManualClock;
    let outlink: TestOutlink;
    let linkId: string;
    const accounts = Array.from({ length: 20 }, (_, i) => `user${i}@example.test`);

    before(async () => {
      provider = await startTestProvider({ accounts });
    });
    after(async () => {
      await provider?.close();
    });
    beforeEach(async () => {
      clock = createManualClock();
      provider.proxy.always({ kind: 'pass' });
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch });
      linkId = await createTestLink(outlink, provider);
    });
    afterEach(async () => {
      await outlink?.close();
    });

    it('refreshes the connections inside the refresh margin and leaves fresh ones alone', async () => {
      const a = await authorizeAccount(outlink, provider, linkId, accounts[0]!);
      const b = await authorizeAccount(outlink, provider, linkId, accounts[1]!);
      clock.advance(30 * MINUTE);
      const c = await authorizeAccount(outlink, provider, linkId, accounts[2]!);
      const { scheduler } = outlink.services;

      // 55 min in: a and b have 5 minutes left, which is not more than the margin.
      clock.advance(25 * MINUTE - 1);
      assert.deepEqual(await scheduler.tick(), {
        due: 0,
        refreshed: 0,
        failed: 0,
      });
      clock.advance(1);
      const requests = provider.proxy.count(provider.tokenPath);
      const before = await Promise.all([a, b, c].map((id) => connectionRow(outlink, id)));
      assert.deepEqual(await scheduler.tick(), {
        due: 2,
        refreshed: 2,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 2);
      const now = clock.now().toISOString();
      const after = await Promise.all([a, b, c].map((id) => connectionRow(outlink, id)));
      for (const i of [0, 1]) {
        assert.equal(after[i]?.token_version, (before[i]?.token_version ?? 0) + 1);
        assert.equal(after[i]?.last_refreshed_at, now);
        assert.equal(after[i]?.expires_at, new Date(clock.now().getTime() + HOUR).toISOString());
        assert.equal(after[i]?.status, 'valid');
      }
      assert.deepEqual(after[2], before[2]);
      // Nothing is due any more.
      assert.deepEqual(await scheduler.tick(), {
        due: 0,
        refreshed: 0,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 2);
    });

    it('refreshes an idle connection once a day even though its token is fresh', async () => {
      const id = await authorizeAccount(outlink, provider, linkId, accounts[3]!);
      // A token that outlives the keep-alive period, as some providers issue.
      const longLived = new Date(clock.now().getTime() + 3 * DAY).toISOString();
      await outlink.services.store.db
        .updateTable('connections')
        .set({ expires_at: longLived })
        .where('id', '=', id)
        .execute();
      const { scheduler } = outlink.services;
      const requests = provider.proxy.count(provider.tokenPath);

      clock.advance(DAY - 1);
      assert.equal((await scheduler.tick()).due, 0);
      assert.equal(provider.proxy.count(provider.tokenPath), requests);
      const view = await outlink.services.tokens.getAccessToken(id);
      assert.equal(view.expiresAt, longLived);

      clock.advance(1);
      assert.deepEqual(await scheduler.tick(), {
        due: 1,
        refreshed: 1,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      const row = await connectionRow(outlink, id);
      assert.equal(row.last_refreshed_at, clock.now().toISOString());
      assert.equal(row.expires_at, new Date(clock.now().getTime() + HOUR).toISOString());
    });

    it('runs at most `concurrency` refreshes at once', async () => {
      const gauged = gaugedFetch(provider.as.fetch, provider.tokenEndpoint);
      await outlink.close({ drop: false });
      outlink = await startOutlink(dialect, {
        clock,
        fetch: gauged.fetch,
        database: outlink.database,
        schedulerOptions: { concurrency: 3 },
      });
      const ids: string[] = [];
      for (const account of accounts) {
        ids.push(await authorizeAccount(outlink, provider, linkId, account));
      }
      clock.advance(56 * MINUTE);
      gauged.gauge.max = 0;
      // A slow provider makes the overlap observable.
      provider.proxy.always({ kind: 'delay', ms: 100 });
      const requests = provider.proxy.count(provider.tokenPath);
      const result = await outlink.services.scheduler.tick();
      assert.deepEqual(result, { due: 20, refreshed: 20, failed: 0 });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 20);
      assert.equal(gauged.gauge.max, 3);
      assert.equal(gauged.gauge.inFlight, 0);
    });

    it('skips connections that need re-authorization', async () => {
      const id = await authorizeAccount(outlink, provider, linkId, accounts[4]!);
      provider.proxy.queue(oauthError('invalid_grant', 400, 'grant revoked'));
      await assert.rejects(
        outlink.services.tokens.refreshNow(id, { kind: 'system' }),
        (e: Error & { code?: string }) => e.code === 'reauthorization_required',
      );
      assert.equal((await connectionRow(outlink, id)).status, 'reauthorization_required');
      const requests = provider.proxy.count(provider.tokenPath);
      clock.advance(2 * DAY);
      assert.deepEqual(await outlink.services.scheduler.tick(), {
        due: 0,
        refreshed: 0,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath), requests);
    });

    it('keeps its state in the database: after a restart it refreshes what became due', async () => {
      const id = await authorizeAccount(outlink, provider, linkId, accounts[5]!);
      const database = outlink.database;
      await outlink.close({ drop: false });
      clock.advance(56 * MINUTE);
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch, database });
      const requests = provider.proxy.count(provider.tokenPath);
      assert.deepEqual(await outlink.services.scheduler.tick(), {
        due: 1,
        refreshed: 1,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      assert.equal((await connectionRow(outlink, id)).last_refreshed_at, clock.now().toISOString());
    });

    it('honours retry_at after a transient failure, across a restart', async () => {
      const id = await authorizeAccount(outlink, provider, linkId, accounts[6]!);
      clock.advance(56 * MINUTE);
      const failedAt = clock.now().getTime();
      provider.proxy.queue({
        kind: 'respond',
        status: 503,
        headers: { 'retry-after': '120' },
        body: 'down for maintenance',
      });
      const requests = provider.proxy.count(provider.tokenPath);
      const first = await outlink.services.scheduler.tick();
      assert.equal(first.due, 1);
      assert.equal(first.refreshed, 0);
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      const failing = await connectionRow(outlink, id);
      assert.equal(failing.status, 'refresh_failing');
      assert.equal(failing.refresh_failures, 1);
      // The provider asked for two minutes, more than the first backoff step.
      assert.equal(failing.retry_at, new Date(failedAt + 2 * MINUTE).toISOString());
      const [failedEvent] = await eventsOf(outlink, 'connection.refresh_failed', id);
      assert.equal(failedEvent?.data.retryAt, failing.retry_at);
      assert.equal(failedEvent?.data.status, 503);

      const database: TestDatabase = outlink.database;
      await outlink.close({ drop: false });
      outlink = await startOutlink(dialect, { clock, fetch: provider.as.fetch, database });
      const { scheduler } = outlink.services;

      clock.advance(2 * MINUTE - 1);
      assert.equal((await scheduler.tick()).due, 0);
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);

      clock.advance(1);
      assert.deepEqual(await scheduler.tick(), {
        due: 1,
        refreshed: 1,
        failed: 0,
      });
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 2);
      const recovered = await connectionRow(outlink, id);
      assert.equal(recovered.status, 'valid');
      assert.equal(recovered.retry_at, null);
      assert.equal(recovered.refresh_failures, 0);
      const [event] = await eventsOf(outlink, 'connection.recovered', id);
      assert.deepEqual(event?.data, { account: accounts[6], from: 'refresh_failing' });
    });

    it('lets two real `outlink worker` processes run at once, refreshing each connection once', async () => {
      const ids: string[] = [];
      for (const account of accounts.slice(7, 12)) {
        ids.push(await authorizeAccount(outlink, provider, linkId, account));
      }
      // Counted where it matters: refresh grants the provider itself made, per account (the
      // test provider's `sub` is the account's email).
      const refreshed = new Map<string, number>();
      const onGrant = (...args: unknown[]) => {
        const { oidc } = args[0] as GrantContext;
        if (oidc.params?.grant_type !== 'refresh_token') return;
        const account = oidc.entities.RefreshToken?.accountId ?? '?';
        refreshed.set(account, (refreshed.get(account) ?? 0) + 1);
      };
      provider.as.provider.on('grant.success', onGrant);
      const versions = async () =>
        Promise.all(ids.map(async (id) => (await connectionRow(outlink, id)).token_version));
      const before = await versions();
      // The workers run on the real clock: every token is stale to them.
      for (const id of ids) await expireToken(outlink.services.store.db, id, systemClock);
      const caFile = join(outlink.database.dataDir, 'test-ca.pem');
      writeFileSync(caFile, provider.as.caPem);
      const env = databaseEnv(outlink.database, {
        NODE_EXTRA_CA_CERTS: caFile,
        OUTLINK_LOG_LEVEL: 'info',
      });
      // A slow provider keeps the first worker's refreshes in flight until the second one
      // has started its first tick (each runs one as soon as it starts).
      provider.proxy.always({ kind: 'delay', ms: 4_000 });
      const requests = provider.proxy.count(provider.tokenPath);
      const workers = [1, 2].map(() => startChild(['worker'], { env, timeoutMs: 60_000 }));
      try {
        await Promise.all(workers.map((w) => w.waitFor(/./, 'stdout', 30_000)));
        assert.deepEqual(
          await versions(),
          before,
          'both workers started before any refresh finished, so their ticks overlapped',
        );
        await waitUntil(async () => (await versions()).every((v, i) => v === before[i]! + 1));
        // The second worker's tick overlapped the first's: any second refresh of its would
        // have reached the provider by now; a little more for one sent late.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        assert.equal(provider.proxy.count(provider.tokenPath) - requests, ids.length);
        assert.deepEqual(
          Object.fromEntries([...refreshed].sort()),
          Object.fromEntries(accounts.slice(7, 12).map((a) => [a, 1])),
        );
        assert.deepEqual(
          await versions(),
          before.map((v) => v + 1),
        );
        for (const id of ids) assert.equal((await connectionRow(outlink, id)).status, 'valid');
        for (const w of workers) {
          assert.doesNotMatch(w.output().stderr, /"level":(50|60)/, w.output().stderr);
        }
      } finally {
        provider.as.provider.removeListener('grant.success', onGrant);
        provider.proxy.always({ kind: 'pass' });
        for (const w of workers) w.kill();
        await Promise.all(workers.map((w) => w.done));
      }
    });

    if (dialect === 'sqlite')
      it('stores scheduled refreshes with one commit at most each, which also frees their leases', async () => {
        // Issue 12: no per-refresh work beyond the grant and one transaction. The claim is one
        // commit for the whole batch, and reads the rows; each refresh then commits its
        // tokens, its event and the release of its lease together, in one transaction with
        // the refreshes whose answers came in the same turn (group commit: how many do is up
        // to the provider's timing, test/store/group-commit.test.ts counts it exactly).
        const ids: string[] = [];
        for (const account of accounts.slice(13, 16)) {
          ids.push(await authorizeAccount(outlink, provider, linkId, account));
        }
        clock.advance(56 * MINUTE);
        const { services } = outlink;
        // No retention pass: only the refreshes write.
        const scheduler = schedulerOver(outlink, clock);
        const file = outlink.database.url.slice('sqlite:'.length);
        const versions = await Promise.all(
          ids.map(async (id) => (await connectionRow(outlink, id)).token_version),
        );
        const commits = sqliteCommits(file);
        assert.deepEqual(await scheduler.tick(), { due: 3, refreshed: 3, failed: 0 });
        const made = sqliteCommits(file) - commits;
        assert.ok(made >= 2 && made <= 1 + ids.length, `${made} commits`);
        for (const [i, id] of ids.entries()) {
          const row = await connectionRow(outlink, id);
          assert.equal(row.token_version, versions[i]! + 1);
          assert.equal(row.status, 'valid');
          assert.equal((await eventsOf(outlink, 'connection.refreshed', id)).length, 1);
        }
        assert.deepEqual(
          await services.store.db.selectFrom('leases').select('name').execute(),
          [],
          'every lease freed',
        );
      });

    it('does not trust a claim that a refresh in this process used and freed meanwhile', async () => {
      // The claim spares a scheduled refresh taking its lease again, but an API caller's
      // refresh in this process can take the claimed lease over and free it between the claim
      // and the scheduled refresh. Another process may hold the lease by then.
      const id = await authorizeAccount(outlink, provider, linkId, accounts[16]!);
      clock.advance(56 * MINUTE);
      const { tokens, store } = outlink.services;
      const leases = createLeases({ db: store.db, clock });
      const stamp = tokens.claimStamp();
      const until = new Date(clock.now().getTime() + tokens.leaseTtlMs);
      assert.equal(await leases.tryAcquire(`refresh:${id}`, tokens.owner, tokens.leaseTtlMs), true);
      // An API caller: its refresh fails for now (the stored token still serves) and frees
      // the lease as it ends.
      provider.proxy.queue({ kind: 'respond', status: 503, headers: { 'retry-after': '120' } });
      await tokens.getAccessToken(id);
      const requests = provider.proxy.count(provider.tokenPath);
      assert.equal(await leases.tryAcquire(`refresh:${id}`, 'peer', tokens.leaseTtlMs), true);

      const scheduled = tokens.refreshIfDue(id, DAY, { until, stamp });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(
        provider.proxy.count(provider.tokenPath),
        requests,
        'no refresh while the peer holds the lease',
      );
      await leases.release(`refresh:${id}`, 'peer');
      assert.equal(await scheduled, 'refreshed');
      assert.equal(provider.proxy.count(provider.tokenPath), requests + 1);
      assert.deepEqual(await store.db.selectFrom('leases').select('name').execute(), []);
    });

    it('start() runs ticks in the background until stop()', async () => {
      const id = await authorizeAccount(outlink, provider, linkId, accounts[12]!);
      clock.advance(56 * MINUTE);
      const timer = createManualTimer();
      // The same services and database; a timer the test fires instead of waiting for it.
      const scheduler = schedulerOver(outlink, clock, { timer, options: { intervalMs: 10 } });
      const version = (await connectionRow(outlink, id)).token_version;
      const requests = provider.proxy.count(provider.tokenPath);
      scheduler.start();
      // The first tick right away, and nothing has run before the timer fires.
      assert.deepEqual(timer.pending(), [0]);
      assert.equal((await connectionRow(outlink, id)).token_version, version);
      await timer.fire();
      assert.equal((await connectionRow(outlink, id)).token_version, version + 1);
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 1);
      // Each finished tick schedules the next one.
      assert.deepEqual(timer.pending(), [10]);
      clock.advance(56 * MINUTE);
      await timer.fire();
      assert.equal((await connectionRow(outlink, id)).token_version, version + 2);
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 2);
      assert.deepEqual(timer.pending(), [10]);

      await scheduler.stop();
      assert.deepEqual(timer.pending(), []);
      // Whatever the timer was still holding would refresh now: nothing runs.
      clock.advance(56 * MINUTE);
      await timer.fireAll();
      assert.equal(provider.proxy.count(provider.tokenPath) - requests, 2);
      assert.equal((await connectionRow(outlink, id)).token_version, version + 2);
    });
  });
}
