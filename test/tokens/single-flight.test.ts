import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManualClock, systemClock } from '../../src/domain/clock.js';
import type { Store } from '../../src/store/db.js';
import { createLeases, type Leases } from '../../src/tokens/leases.js';
import { createSingleFlight, type LeaseWait, underLease } from '../../src/tokens/single-flight.js';
import { closeTestStore, Dialects, openTestStore, type TestDatabase } from '../support/harness.js';

/** A promise the test settles when it chooses. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createSingleFlight (in-process coalescing)', () => {
  it('gives concurrent callers of one key the same run, other keys their own', async () => {
    const flight = createSingleFlight<string>();
    const gate = deferred<string>();
    let runs = 0;
    const run = () => {
      runs++;
      return gate.promise;
    };
    const calls = [flight('a', run), flight('a', run), flight('a', run)];
    const other = flight('b', async () => 'b');
    assert.equal(runs, 1);
    gate.resolve('a1');
    assert.deepEqual(await Promise.all(calls), ['a1', 'a1', 'a1']);
    assert.equal(await other, 'b');
  });

  it('starts afresh once the run settled, after a success or a failure', async () => {
    const flight = createSingleFlight<number>();
    let runs = 0;
    const failing = async () => {
      runs++;
      throw new Error('provider down');
    };
    const together = [flight('a', failing), flight('a', failing)];
    for (const call of together) await assert.rejects(call, /provider down/);
    assert.equal(runs, 1);
    assert.equal(await flight('a', async () => ++runs), 2);
    assert.equal(await flight('a', async () => ++runs), 3);
  });
});

for (const dialect of Dialects) {
  describe(`underLease (cross-process single-flight) on ${dialect}`, () => {
    let database: TestDatabase;
    let store: Store;
    let leases: Leases;
    let clock: ReturnType<typeof createManualClock>;

    before(async () => {
      ({ database, store } = await openTestStore(dialect));
    });
    after(() => closeTestStore(store, database));

    /** A waiter whose every poll moves the clock by `pollMs`, as real waiting would. */
    const waiter = (lease: string, wait: Partial<LeaseWait<string>> = {}) => {
      clock = createManualClock();
      leases = createLeases({ db: store.db, clock });
      const seen = { polls: 0, held: 0, sleeps: [] as number[] };
      const deps = {
        leases,
        owner: 'waiter',
        clock,
        pollSleep: async (ms: number) => {
          seen.sleeps.push(ms);
          clock.advance(ms);
        },
      };
      const run = (poll: () => Promise<string | undefined>) =>
        underLease(deps, {
          lease,
          ttlMs: 10_000,
          waitMs: 1_000,
          pollMs: 100,
          async held() {
            seen.held++;
            return 'held';
          },
          async poll() {
            seen.polls++;
            return poll();
          },
          busy: () => new Error('busy'),
          ...wait,
        });
      return { seen, run };
    };

    const leaseRows = () => store.db.selectFrom('leases').selectAll().execute();

    it('runs the work under the lease and releases it, without waiting', async () => {
      let holders: string[] = [];
      const { seen, run } = waiter('refresh:free', {
        async held() {
          holders = (await leaseRows()).map((r) => r.owner);
          return 'done';
        },
      });
      assert.equal(await run(async () => 'polled'), 'done');
      assert.deepEqual(holders, ['waiter']);
      assert.deepEqual(await leaseRows(), []);
      assert.deepEqual(seen, { polls: 0, held: 0, sleeps: [] });
    });

    it('releases the lease when the work fails', async () => {
      const { run } = waiter('refresh:failing', {
        held: async () => {
          throw new Error('refresh failed');
        },
      });
      await assert.rejects(
        run(async () => undefined),
        /refresh failed/,
      );
      assert.deepEqual(await leaseRows(), []);
    });

    it('renews the lease while the work outlasts its time, so nobody takes it over', async () => {
      // Real time: the renewal runs on a timer. Issue 14: leases are short (a dead node's work
      // moves soon), so a long refresh must renew its lease rather than lose it.
      const real = createLeases({ db: store.db, clock: systemClock });
      let takenMidway: boolean | undefined;
      const result = await underLease(
        { leases: real, owner: 'slow', clock: systemClock, pollSleep: sleep },
        {
          lease: 'refresh:slow',
          ttlMs: 600,
          waitMs: 1_000,
          pollMs: 50,
          async held() {
            await sleep(1_500);
            takenMidway = await real.tryAcquire('refresh:slow', 'other', 600);
            return 'done';
          },
          poll: async () => undefined,
          busy: () => new Error('busy'),
        },
      );
      assert.equal(result, 'done');
      assert.equal(takenMidway, false, 'still held after 2.5 lease times');
      assert.deepEqual(await leaseRows(), []);
    });

    it('waits while another process holds the lease and takes what it stored', async () => {
      const { seen, run } = waiter('refresh:peer');
      assert.equal(await leases.tryAcquire('refresh:peer', 'peer', 10_000), true);
      const result = await run(async () => (seen.polls === 3 ? 'stored by peer' : undefined));
      assert.equal(result, 'stored by peer');
      assert.deepEqual(seen, { polls: 3, held: 0, sleeps: [100, 100, 100] });
      await leases.release('refresh:peer', 'peer');
    });

    it('takes the lease over once a silent holder’s time is up', async () => {
      const { seen, run } = waiter('refresh:crashed');
      assert.equal(await leases.tryAcquire('refresh:crashed', 'crashed', 500), true);
      assert.equal(await run(async () => undefined), 'held');
      // Polls at 100…500 ms; the lease expired at 500 ms and the next try took it.
      assert.equal(seen.polls, 5);
      assert.equal(seen.held, 1);
      assert.deepEqual(await leaseRows(), []);
    });

    it('uses a claim this owner holds without taking it again, and keeps a lease the work freed', async () => {
      // Issue 12: the scheduler claimed the lease for this owner; taking it again (not
      // reentrant) would wait for itself. And a work that freed the lease in its own
      // transaction, or handed it on to a pending write, is not released after it.
      const { seen, run } = waiter('refresh:claimed', {
        claimed: true,
        async held(lease) {
          assert.deepEqual([lease.name, lease.owner], ['refresh:claimed', 'waiter']);
          lease.freed();
          return 'held';
        },
      });
      assert.equal(await leases.tryAcquire('refresh:claimed', 'waiter', 10_000), true);
      assert.equal(await run(async () => undefined), 'held');
      assert.deepEqual(seen, { polls: 0, held: 0, sleeps: [] });
      assert.deepEqual(
        (await leaseRows()).map((r) => [r.name, r.owner]),
        [['refresh:claimed', 'waiter']],
        'left to the work that freed it',
      );
      await leases.release('refresh:claimed', 'waiter');
    });

    it('gives up with busy() once it waited longer than waitMs', async () => {
      const { seen, run } = waiter('refresh:busy');
      assert.equal(await leases.tryAcquire('refresh:busy', 'peer', 60_000), true);
      await assert.rejects(
        run(async () => undefined),
        /^Error: busy$/,
      );
      // 1,000 ms of waiting is still within the limit; the 11th poll is past it.
      assert.equal(seen.polls, 11);
      assert.equal(seen.held, 0);
      assert.equal(clock.now().getTime() - createManualClock().now().getTime(), 1_100);
      await leases.release('refresh:busy', 'peer');
    });
  });
}
