import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Migrator } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { openStore } from '../../src/store/db.js';
import { migrationsFor } from '../../src/store/migrations/index.js';
import {
  authorize,
  connect,
  createLink,
  type DanceWorld,
  getConnection,
  startDance,
} from '../oauth/dance-support.js';
import { createTestDatabase, Dialects } from '../support/harness.js';
import { ALICE, BOB, storedTokens, TEST_ACCOUNTS } from '../support/worlds.js';

/**
 * Issue 11 (Medium 4): a connection belongs to the identity that signed in (issuer + `sub`),
 * not to the email claim. At the real oidc-provider, MALLORY is another account (another
 * `sub`) whose unverified `email` claim is ALICE's address.
 */
const MALLORY = 'mallory@example.test';

for (const dialect of Dialects) {
  describe(`connection identity (${dialect})`, () => {
    let world: DanceWorld;
    let linkId: string;
    let alice: string;

    before(async () => {
      world = await startDance(dialect, {
        accounts: [...TEST_ACCOUNTS, { email: MALLORY, sub: 'mallory', emailClaim: ALICE }],
      });
      linkId = (await createLink(world)).id;
      alice = await connect(world, linkId, ALICE);
    });
    after(() => world?.close());

    it('gives an account sharing an email claim a connection of its own', async () => {
      const before = await storedTokens(world, alice);
      const { flow } = await authorize(world, linkId, MALLORY);
      assert.equal(flow.status, 'succeeded', JSON.stringify(flow));
      assert.notEqual(flow.connectionId, alice);
      const mallory = await getConnection(world, flow.connectionId!);
      assert.equal(mallory.account, ALICE, 'the email claim stays the display name');
      // ALICE's connection is untouched: same tokens, same version.
      assert.deepEqual(await storedTokens(world, alice), before);
      assert.equal((await getConnection(world, alice)).status, 'valid');

      // ALICE signing in again updates her own connection, not MALLORY's.
      const again = await authorize(world, linkId, ALICE);
      assert.equal(again.flow.connectionId, alice);
      const malloryAfter = await storedTokens(world, mallory.id);
      assert.equal(malloryAfter.version, (await storedTokens(world, mallory.id)).version);

      // The name alone no longer picks a connection.
      const res = await world.outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${linkId}/token?account=${encodeURIComponent(ALICE)}`,
        headers: await world.outlink.adminHeaders(),
      });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'ambiguous_connection');
    });

    it("refuses re-authorizing ALICE's connection with another identity of her address", async () => {
      const before = await storedTokens(world, alice);
      const { flow } = await authorize(world, linkId, MALLORY, { connectionId: alice });
      assert.equal(flow.status, 'failed');
      assert.equal(flow.error?.code, 'account_mismatch');
      assert.deepEqual(await storedTokens(world, alice), before);
    });

    it('takes over a connection from before identities only on a verified email', async () => {
      const bob = await connect(world, linkId, BOB);
      // As migration 0005 leaves a row it cannot identify.
      await world.outlink.services.store.db
        .updateTable('connections')
        .set({ identity: null })
        .where('id', '=', bob)
        .execute();
      const bobBefore = await storedTokens(world, bob);
      const bobAgain = await authorize(world, linkId, BOB);
      assert.equal(bobAgain.flow.connectionId, bob, 'a verified email takes its old row');
      assert.notDeepEqual(await storedTokens(world, bob), bobBefore);
      const row = await world.outlink.services.store.db
        .selectFrom('connections')
        .select('identity')
        .where('id', '=', bob)
        .executeTakeFirstOrThrow();
      assert.equal(row.identity, `${world.as.issuer} ${BOB}`);

      // An unverified email claim never takes a row, not even one without an identity.
      await world.outlink.services.store.db
        .updateTable('connections')
        .set({ identity: null })
        .where('id', '=', alice)
        .execute();
      const aliceBefore = await storedTokens(world, alice);
      const { flow } = await authorize(world, linkId, MALLORY);
      assert.equal(flow.status, 'succeeded');
      assert.notEqual(flow.connectionId, alice);
      assert.deepEqual(await storedTokens(world, alice), aliceBefore);
    });
  });

  describe(`migration 0005 (${dialect})`, () => {
    it('drops the one-account-per-name rule and backfills label identities', async () => {
      const database = await createTestDatabase(dialect);
      const config = loadConfig({
        OUTLINK_DATA_DIR: database.dataDir,
        OUTLINK_DATABASE_URL: database.url,
      });
      const store = openStore(config.database);
      try {
        const migrator = new Migrator({
          db: store.db,
          provider: { getMigrations: async () => migrationsFor(dialect) },
        });
        const to4 = await migrator.migrateTo('0004-mail-handler');
        assert.equal(to4.error, undefined);
        const db = store.db;
        const at = new Date().toISOString();
        const linkId = randomUUID();
        await db
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
            authorization_endpoint: 'https://as.example/auth',
            token_endpoint: 'https://as.example/token',
            client_auth_method: 'client_secret_post',
            created_at: at,
            updated_at: at,
          } as never)
          .execute();
        const row = (id: string, account: string, issuer: string | null) => ({
          id,
          link_id: linkId,
          account,
          status: 'valid',
          scopes: '[]',
          issuer,
          created_at: at,
          updated_at: at,
        });
        await db
          .insertInto('connections')
          .values([
            row('c1', 'Shared Inbox', null),
            row('c2', ALICE, 'https://as.example'),
          ] as never)
          .execute();
        await db
          .insertInto('mail_servers')
          .values({
            id: 'm1',
            name: 'M',
            name_key: 'm',
            protocol: 'imap',
            host: 'h',
            port: 993,
            security: 'tls',
            username: ALICE,
            auth_method: 'oauth2',
            connection_id: 'c2',
            created_at: at,
            updated_at: at,
          } as never)
          .execute();
        // 0005 first; later migrations (0006-flow-actor, …) follow it.
        assert.equal((await store.migrate())[0], '0005-account-identity');
        const rows = await db
          .selectFrom('connections')
          .select(['id', 'identity'])
          .orderBy('id')
          .execute();
        assert.deepEqual(rows, [
          { id: 'c1', identity: 'label:shared inbox' },
          { id: 'c2', identity: null },
        ]);
        // Another identity with ALICE's name is now a row of its own.
        await db
          .insertInto('connections')
          .values({ ...row('c3', ALICE, 'https://as.example'), identity: 'x y' } as never)
          .execute();
        // The mail server still refers to its connection, and the reference holds.
        const refused = await db
          .deleteFrom('connections')
          .where('id', '=', 'c2')
          .execute()
          .then(
            () => false,
            () => true,
          );
        assert.equal(refused, true, 'the foreign key of mail_servers survives the rebuild');
      } finally {
        await store.close();
        await database.drop();
      }
    });
  });
}
