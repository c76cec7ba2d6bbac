import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { isUniqueViolation, openStore, type Store } from '../../src/store/db.js';
import { migrationsFor } from '../../src/store/migrations/index.js';
import {
  createTestDatabase,
  Dialects,
  PG_ADMIN_URL,
  type TestDatabase,
} from '../support/harness.js';

async function withStore(
  dialect: (typeof Dialects)[number],
  body: (store: Store, database: TestDatabase) => Promise<void>,
) {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
  });
  const store = openStore(config.database);
  try {
    await body(store, database);
  } finally {
    await store.close();
    await database.drop();
  }
}

const user = (username: string) => ({
  id: randomUUID(),
  username,
  password_hash: 'scrypt$x',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
});

for (const dialect of Dialects) {
  describe(`store on ${dialect}`, () => {
    it('applies every migration once, in order, and reports none pending after', async () => {
      await withStore(dialect, async (store) => {
        const all = Object.keys(migrationsFor(dialect));
        assert.deepEqual(all, [...all].sort());
        assert.deepEqual(await store.pendingMigrations(), all);
        assert.deepEqual(await store.migrate(), all);
        assert.deepEqual(await store.pendingMigrations(), []);
        assert.deepEqual(await store.migrate(), []);
        await store.ping();
      });
    });

    it('reports unique violations the same way in both dialects', async () => {
      await withStore(dialect, async (store) => {
        await store.migrate();
        await store.db.insertInto('users').values(user('admin')).execute();
        const error = await store.db
          .insertInto('users')
          .values(user('admin'))
          .execute()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(error, 'the duplicate was accepted');
        assert.equal(isUniqueViolation(error), true);
        assert.equal(isUniqueViolation(new Error('other')), false);
        assert.equal(isUniqueViolation(undefined), false);
      });
    });

    it('enforces foreign keys and cascades a link’s connections', async () => {
      await withStore(dialect, async (store) => {
        await store.migrate();
        const orphan = store.db
          .insertInto('sessions')
          .values({
            id_hash: 'h',
            user_id: randomUUID(),
            csrf_token: 'c',
            created_at: 'now',
            expires_at: 'later',
          })
          .execute();
        await assert.rejects(orphan);

        const linkId = randomUUID();
        const now = '2026-01-01T00:00:00.000Z';
        await store.db
          .insertInto('links')
          .values({
            id: linkId,
            name: 'L',
            name_key: 'l',
            description: '',
            direction: 'outgoing',
            application_type: 'external',
            provider: 'google',
            client_id: 'c',
            client_secret_enc: 'ol1.x.y',
            scopes: '[]',
            authorization_endpoint: 'https://a.example/auth',
            token_endpoint: 'https://a.example/token',
            issuer: null,
            tenant: null,
            cloud: null,
            client_auth_method: 'client_secret_post',
            client_secret_expires_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await store.db
          .insertInto('connections')
          .values({
            id: randomUUID(),
            link_id: linkId,
            account: 'a@example.com',
            status: 'valid',
            access_token_enc: null,
            refresh_token_enc: null,
            token_type: null,
            expires_at: null,
            scopes: '[]',
            last_refreshed_at: null,
            last_error: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await store.db.deleteFrom('links').where('id', '=', linkId).execute();
        const left = await store.db.selectFrom('connections').select('id').execute();
        assert.deepEqual(left, []);
      });
    });

    it('orders events written in the same instant by their sequence', async () => {
      await withStore(dialect, async (store) => {
        await store.migrate();
        for (let i = 0; i < 5; i += 1) {
          await store.db
            .insertInto('events')
            .values({
              id: randomUUID(),
              type: 'link.created',
              at: '2026-01-01T00:00:00.000Z',
              actor: 'admin',
              link_id: null,
              connection_id: null,
              mail_server_id: null,
              data: JSON.stringify({ i }),
            })
            .execute();
        }
        const rows = await store.db
          .selectFrom('events')
          .select(['seq', 'data'])
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          rows.map((r) => (JSON.parse(r.data) as { i: number }).i),
          [0, 1, 2, 3, 4],
        );
        const seqs = rows.map((r) => Number(r.seq));
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
      });
    });

    it('closes once and then refuses queries', async () => {
      await withStore(dialect, async (store) => {
        await store.migrate();
        await store.close();
        await store.close();
        await assert.rejects(store.ping());
      });
    });
  });
}

describe('PostgreSQL pool', () => {
  it('survives the server dropping an idle connection, and says so', async () => {
    const database = await createTestDatabase('postgres');
    const config = loadConfig({
      OUTLINK_DATA_DIR: database.dataDir,
      OUTLINK_DATABASE_URL: database.url,
    });
    const dropped: Error[] = [];
    const store = openStore(config.database, { onIdleError: (e) => dropped.push(e) });
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    try {
      await store.migrate();
      await store.ping();
      await admin.connect();
      const name = new URL(database.url).pathname.slice(1);
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
        [name],
      );
      assert.ok(killed.rowCount && killed.rowCount > 0, 'no connection to terminate');
      for (let i = 0; i < 50 && dropped.length === 0; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(dropped.length > 0, 'the pool did not report the dropped connection');
      await store.ping();
    } finally {
      await admin.end();
      await store.close();
      await database.drop();
    }
  });
});

describe('SQLite settings', () => {
  it('runs in WAL mode with foreign keys on and a busy timeout', async () => {
    await withStore('sqlite', async (store) => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      assert.equal(mode.rows[0]?.journal_mode, 'wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
      assert.equal(fk.rows[0]?.foreign_keys, 1);
      const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
      assert.ok((busy.rows[0]?.timeout ?? 0) >= 1000);
    });
  });

  it('lets two stores (server and CLI) write the same file', async () => {
    const database = await createTestDatabase('sqlite');
    const config = loadConfig({
      OUTLINK_DATA_DIR: database.dataDir,
      OUTLINK_DATABASE_URL: database.url,
    });
    const [a, b] = [openStore(config.database), openStore(config.database)];
    try {
      await a.migrate();
      assert.deepEqual(await b.pendingMigrations(), []);
      await Promise.all([
        a.db.insertInto('users').values(user('one')).execute(),
        b.db.insertInto('users').values(user('two')).execute(),
      ]);
      const names = await a.db.selectFrom('users').select('username').orderBy('username').execute();
      assert.deepEqual(
        names.map((n) => n.username),
        ['one', 'two'],
      );
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
