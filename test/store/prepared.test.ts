import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { prepare } from '../../src/store/prepared.js';
import { inTransaction } from '../../src/store/repositories/transaction.js';
import { Dialects } from '../support/harness.js';
import { withRepositoryWorld } from './repositories/support.js';

/** A prepared statement that counts how often it is built. */
function counted() {
  let builds = 0;
  const statement = prepare((db, v: { prefix: string; last: number }) => {
    builds++;
    return db
      .insertInto('issue_counters')
      .values({ prefix: v.prefix, last_number: v.last })
      .returning(['prefix', 'last_number']);
  });
  return { statement, builds: () => builds };
}

for (const dialect of Dialects) {
  describe(`prepared statements on ${dialect}`, () => {
    it('builds once per database and runs with each call’s own values', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const { statement, builds } = counted();
        const first = await statement(store.db, { prefix: 'A', last: 1 });
        const second = await statement(store.db, { prefix: 'B', last: 7 });
        assert.deepEqual(
          [...first.rows, ...second.rows].map((r) => [r.prefix, Number(r.last_number)]),
          [
            ['A', 1],
            ['B', 7],
          ],
        );
        assert.equal(builds(), 1);
        const rows = await store.db
          .selectFrom('issue_counters')
          .select(['prefix', 'last_number'])
          .orderBy('prefix')
          .execute();
        assert.deepEqual(
          rows.map((r) => [r.prefix, Number(r.last_number)]),
          [
            ['A', 1],
            ['B', 7],
          ],
        );
      });
    });

    it('runs inside a transaction, which is rolled back with it', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const { statement, builds } = counted();
        await assert.rejects(
          inTransaction(store.db, async (trx) => {
            await statement(trx, { prefix: 'T', last: 1 });
            await statement(trx, { prefix: 'U', last: 2 });
            throw new Error('roll back');
          }),
          /roll back/,
        );
        // Built once for the transaction; nothing of it stayed.
        assert.equal(builds(), 1);
        const rows = await store.db.selectFrom('issue_counters').selectAll().execute();
        assert.deepEqual(rows, []);
      });
    });

    it('shares one build between the database and its transactions, not with a plugin', async () => {
      // Issue 12: a refresh runs its statements in a transaction; built per transaction they
      // cost a query tree and a compile each time.
      await withRepositoryWorld(dialect, async ({ store }) => {
        const { statement, builds } = counted();
        await statement(store.db, { prefix: 'D', last: 1 });
        for (const prefix of ['E', 'F']) {
          await inTransaction(store.db, (trx) => statement(trx, { prefix, last: 2 }));
        }
        assert.equal(builds(), 1);
        // A plugin may rewrite the query: such an executor builds its own.
        const renamed = store.db.withPlugin({
          transformQuery: (args) => args.node,
          transformResult: async (args) => args.result,
        });
        await statement(renamed, { prefix: 'G', last: 3 });
        assert.equal(builds(), 2);
        const rows = await store.db.selectFrom('issue_counters').select('prefix').execute();
        assert.deepEqual(rows.map((r) => r.prefix).sort(), ['D', 'E', 'F', 'G']);
      });
    });

    it('refuses a statement that uses a value for its shape, not as a parameter', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const shaped = prepare((db, v: { limit: number }) =>
          // A value inlined into the SQL text instead of sent as a parameter.
          db
            .selectFrom('issue_counters')
            .selectAll()
            .modifyEnd(sql`-- ${sql.raw(String(v.limit))}`),
        );
        await assert.rejects(shaped(store.db, { limit: 3 }), /every value as a parameter/);
      });
    });

    it('builds a call with an undefined value anew (Kysely leaves the column out)', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        let builds = 0;
        const statement = prepare((db, v: { prefix: string; last?: number }) => {
          builds++;
          return db
            .insertInto('issue_counters')
            .values({ prefix: v.prefix, last_number: v.last as number });
        });
        await statement(store.db, { prefix: 'P', last: 4 });
        await statement(store.db, { prefix: 'Q', last: 5 });
        assert.equal(builds, 1);
        // Left out, last_number (NOT NULL, no default) refuses the row: the statement was built
        // without the column, not run with a bound undefined.
        await assert.rejects(
          statement(store.db, { prefix: 'R', last: undefined }),
          /NOT NULL|null value/i,
        );
        assert.equal(builds, 2);
      });
    });
  });
}
