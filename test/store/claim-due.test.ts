/**
 * Issue 14: scheduled refreshes are claimed, not just listed, so nodes take disjoint work
 * without a leader: a claim takes a `refresh:<id>` lease for each due row no live lease
 * covers, and on PostgreSQL skips rows another transaction has locked (`SKIP LOCKED`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Store } from '../../src/store/db.js';
import { createConnectionTokensRepository } from '../../src/store/repositories/connection-tokens.js';
import { closeTestStore, Dialects, openTestStore, type TestDatabase } from '../support/harness.js';

const NOW = new Date('2026-12-06T03:00:00.000Z');
const due = (owner: string, limit = 10, skipLocked = false) => ({
  now: NOW,
  marginMs: 5 * 60_000,
  keepAliveMs: 24 * 3_600_000,
  limit,
  owner,
  leaseUntil: new Date(NOW.getTime() + 20_000),
  skipLocked,
});

const idOf = (row: { readonly id: string }) => row.id;

for (const dialect of Dialects) {
  describe(`claimDue on ${dialect}`, () => {
    let database: TestDatabase;
    let store: Store;
    const ids: string[] = [];
    before(async () => {
      ({ database, store } = await openTestStore(dialect));
      const at = NOW.toISOString();
      const linkId = randomUUID();
      await store.db
        .insertInto('links')
        .values({
          id: linkId,
          name: 'L',
          name_key: 'l',
          description: '',
          direction: 'outgoing',
          application_type: 'external',
          provider: 'custom',
          client_id: 'c',
          client_secret_enc: 'x',
          scopes: '[]',
          authorization_endpoint: 'https://as.test/a',
          token_endpoint: 'https://as.test/t',
          issuer: null,
          tenant: null,
          cloud: null,
          client_auth_method: 'client_secret_post',
          client_secret_expires_at: null,
          created_at: at,
          updated_at: at,
          revocation_endpoint: null,
        })
        .execute();
      for (let i = 0; i < 6; i++) {
        const id = randomUUID();
        ids.push(id);
        await store.db
          .insertInto('connections')
          .values({
            id,
            link_id: linkId,
            account: `a${i}@example.test`,
            status: 'valid',
            access_token_enc: 'x',
            refresh_token_enc: 'x',
            token_type: 'Bearer',
            // Expired, in order: the claim takes the most urgent first.
            expires_at: new Date(NOW.getTime() - (10 - i) * 60_000).toISOString(),
            scopes: '[]',
            last_refreshed_at: at,
            last_error: null,
            created_at: at,
            updated_at: at,
            issuer: null,
            retry_at: null,
            identity: null,
            redirect_uri: null,
            authorized_at: null,
          })
          .execute();
      }
    });
    after(() => closeTestStore(store, database));

    test('two claimers take disjoint rows; a live claim is not taken again', async () => {
      const repo = createConnectionTokensRepository(store.db);
      const a = await repo.claimDue(due('node-a', 3, dialect === 'postgres'));
      const b = await repo.claimDue(due('node-b', 10, dialect === 'postgres'));
      assert.deepEqual(a.map(idOf), ids.slice(0, 3));
      assert.deepEqual(b.map(idOf), ids.slice(3));
      // Whole rows, as stored (issue 12: the refresh starts from them without reading again).
      for (const row of [...a, ...b]) {
        assert.deepEqual(
          row,
          await store.db
            .selectFrom('connections')
            .selectAll()
            .where('id', '=', row.id)
            .executeTakeFirstOrThrow(),
        );
      }
      assert.deepEqual(await repo.claimDue(due('node-c')), []);
      // Once the claims run out (a dead node), the work is claimable again.
      const later = { ...due('node-c'), now: new Date(NOW.getTime() + 21_000) };
      later.leaseUntil = new Date(later.now.getTime() + 20_000);
      assert.deepEqual((await repo.claimDue(later)).map(idOf).sort(), [...ids].sort());
      await store.db.deleteFrom('leases').execute();
    });

    if (dialect === 'postgres') {
      test('rows another transaction has locked are skipped, not waited for', async () => {
        const other = new pg.Client({ connectionString: database.url });
        await other.connect();
        try {
          await other.query('begin');
          await other.query('select id from connections where id = any($1) for update', [
            ids.slice(0, 2),
          ]);
          const repo = createConnectionTokensRepository(store.db);
          const started = Date.now();
          const claimed = await repo.claimDue(due('node-a', 10, true));
          assert.ok(Date.now() - started < 3_000, 'did not wait for the lock');
          assert.deepEqual(claimed.map(idOf), ids.slice(2));
          await other.query('rollback');
        } finally {
          await other.end();
        }
      });
    }
  });
}
