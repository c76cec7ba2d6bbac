import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createLeases, type Leases } from '../../src/tokens/leases.js';
import {
  createTestDatabase,
  Dialects,
  storeTargetOf,
  type TestDatabase,
} from '../support/harness.js';

for (const dialect of Dialects) {
  describe(`leases on ${dialect}`, () => {
    const clock = createManualClock();
    let database: TestDatabase;
    // Two stores: two connection pools, as two processes have.
    let stores: Store[];
    let one: Leases;
    let two: Leases;

    before(async () => {
      database = await createTestDatabase(dialect);
      stores = [openStore(storeTargetOf(database)), openStore(storeTargetOf(database))];
      await stores[0]!.migrate();
      one = createLeases({ db: stores[0]!.db, clock });
      two = createLeases({ db: stores[1]!.db, clock });
    });
    after(async () => {
      for (const store of stores ?? []) await store.close();
      await database?.drop();
    });

    it('has one holder at a time; only the holder releases', async () => {
      assert.equal(await one.tryAcquire('refresh:a', 'owner-1', 10_000), true);
      assert.equal(await two.tryAcquire('refresh:a', 'owner-2', 10_000), false);
      assert.equal(await one.tryAcquire('refresh:a', 'owner-1', 10_000), false);
      // Another lease name is independent.
      assert.equal(await two.tryAcquire('refresh:b', 'owner-2', 10_000), true);
      await two.release('refresh:a', 'owner-2');
      assert.equal(await two.tryAcquire('refresh:a', 'owner-2', 10_000), false);
      await one.release('refresh:a', 'owner-1');
      assert.equal(await two.tryAcquire('refresh:a', 'owner-2', 10_000), true);
      await two.release('refresh:a', 'owner-2');
      await two.release('refresh:b', 'owner-2');
      assert.deepEqual(await stores[0]!.db.selectFrom('leases').selectAll().execute(), []);
    });

    it('is taken over once its holder’s time is up, not before', async () => {
      assert.equal(await one.tryAcquire('refresh:c', 'crashed', 5_000), true);
      clock.advance(4_999);
      assert.equal(await two.tryAcquire('refresh:c', 'owner-2', 5_000), false);
      clock.advance(1);
      assert.equal(await two.tryAcquire('refresh:c', 'owner-2', 5_000), true);
      const [row] = await stores[0]!.db
        .selectFrom('leases')
        .selectAll()
        .where('name', '=', 'refresh:c')
        .execute();
      assert.equal(row?.owner, 'owner-2');
      assert.equal(row?.expires_at, new Date(clock.now().getTime() + 5_000).toISOString());
      // The late holder's release does not free the new holder's lease.
      await one.release('refresh:c', 'crashed');
      assert.equal(await one.tryAcquire('refresh:c', 'owner-1', 5_000), false);
      await two.release('refresh:c', 'owner-2');
    });

    it('grants exactly one of 200 simultaneous attempts from two pools', async () => {
      const attempts = Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? one : two).tryAcquire('refresh:race', `owner-${i}`, 10_000),
      );
      const won = (await Promise.all(attempts)).filter(Boolean).length;
      assert.equal(won, 1);
      const rows = await stores[1]!.db
        .selectFrom('leases')
        .selectAll()
        .where('name', '=', 'refresh:race')
        .execute();
      assert.equal(rows.length, 1);
    });
  });
}
