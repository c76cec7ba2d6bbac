/**
 * Issue 12: group commit. Writes queued in one turn of the event loop share one transaction;
 * one the database refuses is tried again alone and costs the others nothing; when the
 * database is away, every caller is told at once.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Transaction } from 'kysely';
import type { Store } from '../../src/store/db.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { closeTestStore, Dialects, openTestStore, type TestDatabase } from '../support/harness.js';
import { sqliteCommits } from '../support/sqlite-commits.js';

class Away extends Error {}

for (const dialect of Dialects) {
  describe(`group commit on ${dialect}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      ({ database, store } = await openTestStore(dialect));
    });
    after(() => closeTestStore(store, database));
    beforeEach(async () => {
      await store.db.deleteFrom('cluster_state').execute();
    });

    /** A group that stores each name in `cluster_state` and keeps every batch it was given. */
    const group = (
      options: {
        during?: (batch: readonly string[]) => void;
        isUnavailable?: (error: unknown) => boolean;
      } = {},
    ) => {
      const batches: string[][] = [];
      const write = createGroupCommit<string, string>({
        db: store.db,
        ...(options.isUnavailable ? { isUnavailable: options.isUnavailable } : {}),
        async write(trx: Transaction<Database>, batch) {
          batches.push([...batch]);
          options.during?.(batch);
          for (const name of batch) {
            if (name.startsWith('away')) throw new Away('the database went away');
            await trx
              .insertInto('cluster_state')
              .values({ name, value: `v-${name}`, updated_at: 'now' })
              .execute();
          }
          return batch.map((name) => `stored ${name}`);
        },
      });
      return { write, batches };
    };

    const stored = async () =>
      (await store.db.selectFrom('cluster_state').select('name').orderBy('name').execute()).map(
        (r) => r.name,
      );

    const commits = () =>
      dialect === 'sqlite' ? sqliteCommits(database.url.slice('sqlite:'.length)) : undefined;

    test('writes queued in one turn share one transaction, each told its own result', async () => {
      const { write, batches } = group();
      const before = commits();
      const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(write));
      assert.deepEqual(results, ['stored a', 'stored b', 'stored c', 'stored d', 'stored e']);
      assert.deepEqual(batches, [['a', 'b', 'c', 'd', 'e']]);
      assert.deepEqual(await stored(), ['a', 'b', 'c', 'd', 'e']);
      if (before !== undefined) assert.equal(commits()! - before, 1);
    });

    test('a write queued while a batch is written goes in the next one', async () => {
      let late: Promise<string> | undefined;
      const { write, batches } = group({
        during: (batch) => {
          if (batch.includes('a')) late = write('c');
        },
      });
      const before = commits();
      assert.deepEqual(await Promise.all([write('a'), write('b')]), ['stored a', 'stored b']);
      assert.equal(await late, 'stored c');
      assert.deepEqual(batches, [['a', 'b'], ['c']]);
      assert.deepEqual(await stored(), ['a', 'b', 'c']);
      if (before !== undefined) assert.equal(commits()! - before, 2);
    });

    test('a write the database refuses is tried alone and costs the others nothing', async () => {
      await store.db
        .insertInto('cluster_state')
        .values({ name: 'dup', value: 'first', updated_at: 'then' })
        .execute();
      const { write, batches } = group();
      const outcomes = await Promise.allSettled(['x', 'dup', 'y'].map(write));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined)),
        ['stored x', undefined, 'stored y'],
      );
      assert.deepEqual(batches, [['x', 'dup', 'y'], ['x'], ['dup'], ['y']]);
      assert.deepEqual(await stored(), ['dup', 'x', 'y']);
      // The refused write left the row it collided with as it was.
      const dup = await store.db
        .selectFrom('cluster_state')
        .select('value')
        .where('name', '=', 'dup')
        .executeTakeFirstOrThrow();
      assert.equal(dup.value, 'first');
    });

    test('when the database is away every write of the batch is told, none tried again', async () => {
      const { write, batches } = group({ isUnavailable: (error) => error instanceof Away });
      const outcomes = await Promise.allSettled(['p', 'away', 'q'].map(write));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.reason instanceof Away);
      }
      assert.deepEqual(batches, [['p', 'away', 'q']]);
      assert.deepEqual(await stored(), [], 'the batch was rolled back whole');
      // The next write is a batch of its own again.
      assert.equal(await write('r'), 'stored r');
      assert.deepEqual(await stored(), ['r']);
    });

    test('a write alone that fails is refused once, not tried again', async () => {
      const { write, batches } = group();
      await write('once');
      await assert.rejects(write('once'));
      assert.deepEqual(batches, [['once'], ['once']]);
    });
  });
}
