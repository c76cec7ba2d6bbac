import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { changeProbeOf } from '../../src/store/change-probe.js';
import { openStore } from '../../src/store/db.js';
import {
  bumpCacheEpoch,
  createCacheEpochRepository,
  createCacheEpochSnapshotReader,
} from '../../src/store/repositories/cache-epochs.js';
import { inTransaction } from '../../src/store/repositories/transaction.js';
import type { Database } from '../../src/store/schema.js';
import { withRepositoryWorld } from './repositories/support.js';

/** Bumps the `access_tokens` epoch from a process of its own (better-sqlite3, as Outlink uses). */
function bumpFromAnotherProcess(file: string): void {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 5000');
    db.prepare("update cache_epochs set epoch = epoch + 1 where name = 'access_tokens'").run();
    db.close();
  `;
  execFileSync(process.execPath, ['-e', script, file], { cwd: process.cwd() });
}

/** Counts the statements `db` runs from now on (the epoch readers call `executeQuery`). */
function countQueries(db: Kysely<Database>): () => number {
  let count = 0;
  const run = db.executeQuery.bind(db);
  (db as unknown as { executeQuery: typeof run }).executeQuery = ((
    ...args: Parameters<typeof run>
  ) => {
    count++;
    return run(...args);
  }) as typeof run;
  return () => count;
}

/**
 * Issue 12: the cache epochs are read from SQLite only when the WAL-index header says some
 * process committed since the last read; a commit by any process is seen by the next read.
 */
describe('the SQLite change probe', () => {
  it('stays still without commits and moves with a commit in this process or another', async () => {
    await withRepositoryWorld('sqlite', async ({ store, database }) => {
      const probe = changeProbeOf(store.db);
      assert.ok(probe, 'a SQLite file in WAL mode has a probe');
      const first = probe.version();
      // Reads are not commits.
      await store.db.selectFrom('cache_epochs').selectAll().execute();
      assert.equal(probe.version(), first);
      assert.equal(probe.version(), first);

      await bumpCacheEpoch(store.db, 'api_tokens');
      const afterOwn = probe.version();
      assert.notEqual(afterOwn, first, 'a commit of this process');

      bumpFromAnotherProcess(join(database.dataDir, 'outlink.db'));
      const afterOther = probe.version();
      assert.notEqual(afterOther, afterOwn, 'a commit of another process');
      assert.equal(probe.version(), afterOther);
    });
  });

  it('lets the epoch readers skip SQLite until a commit, then read the new counter', async () => {
    await withRepositoryWorld('sqlite', async ({ store, database }) => {
      const file = join(database.dataDir, 'outlink.db');
      const snapshot = createCacheEpochSnapshotReader(store.db);
      const current = createCacheEpochRepository(store.db, 'access_tokens');
      const queries = countQueries(store.db);

      const before = await snapshot();
      const beforeOne = await current.current();
      assert.equal(queries(), 2);
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await snapshot(), before);
        assert.equal(await current.current(), beforeOne);
      }
      assert.equal(queries(), 2, 'unchanged: answered without a statement');

      bumpFromAnotherProcess(file);
      const after = await snapshot();
      assert.equal(Number(after.access_tokens), Number(before.access_tokens) + 1);
      assert.equal(after.api_tokens, before.api_tokens);
      assert.equal(Number(await current.current()), Number(beforeOne) + 1);
      assert.equal(queries(), 4);

      await bumpCacheEpoch(store.db, 'api_tokens');
      assert.equal(Number((await snapshot()).api_tokens), Number(before.api_tokens) + 1);
    });
  });

  it('shares one read among the callers arriving after a commit', async () => {
    await withRepositoryWorld('sqlite', async ({ store, database }) => {
      const snapshot = createCacheEpochSnapshotReader(store.db);
      const before = await snapshot();
      const queries = countQueries(store.db);
      bumpFromAnotherProcess(join(database.dataDir, 'outlink.db'));
      const answers = await Promise.all(Array.from({ length: 10 }, () => snapshot()));
      assert.equal(queries(), 1, 'one statement for ten callers');
      for (const answer of answers)
        assert.equal(Number(answer.access_tokens), Number(before.access_tokens) + 1);
      // A commit while nobody reads: the next caller reads again.
      await bumpCacheEpoch(store.db, 'access_tokens');
      assert.equal(Number((await snapshot()).access_tokens), Number(before.access_tokens) + 2);
      assert.equal(queries(), 3, 'the bump and one read');
    });
  });

  it('is absent where every read must ask: transactions, memory, PostgreSQL', async () => {
    await withRepositoryWorld('sqlite', async ({ store }) => {
      await inTransaction(store.db, async (trx) => {
        assert.equal(changeProbeOf(trx), undefined);
      });
    });
    const memory = openStore({ kind: 'sqlite', file: ':memory:' });
    try {
      assert.equal(changeProbeOf(memory.db), undefined);
    } finally {
      await memory.close();
    }
    await withRepositoryWorld('postgres', async ({ store }) => {
      assert.equal(changeProbeOf(store.db), undefined);
    });
  });

  it('counts every look as a change once closed', async () => {
    await withRepositoryWorld('sqlite', async ({ second }) => {
      const other = second();
      const probe = changeProbeOf(other.db);
      assert.ok(probe);
      await other.close();
      const a = probe.version();
      assert.notEqual(probe.version(), a);
    });
  });
});
