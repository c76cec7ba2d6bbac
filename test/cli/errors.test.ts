import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createTestDatabase, PG_ADMIN_URL } from '../support/harness.js';
import { cleanEnv, databaseEnv, runInProcess } from './cli-harness.js';

describe('errors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-cli-errors-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a bad environment lists every violation, exit 1, and touches nothing', async () => {
    const env = cleanEnv({
      OUTLINK_DATA_DIR: dataDir,
      OUTLINK_LISTEN: 'everywhere',
      OUTLINK_LOG_LEVEL: 'loud',
    });
    const result = await runInProcess(['links', 'list'], { env });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'error config_invalid: The configuration in the environment is invalid:',
    );
    assert.ok(
      lines.some((l) => l.startsWith('  - OUTLINK_LISTEN: ')),
      result.stderr,
    );
    assert.ok(
      lines.some((l) => l.startsWith('  - OUTLINK_LOG_LEVEL: ')),
      result.stderr,
    );
    assert.match(lines.at(-1)!, /^remedy: /);
    assert.deepEqual(readdirSync(dataDir), []);
  });

  test('an unreachable or missing PostgreSQL database is database_unavailable', async () => {
    const missing = new URL(PG_ADMIN_URL);
    missing.pathname = '/outlink_no_such_database';
    for (const url of ['postgres://postgres@127.0.0.1:1/outlink', missing.href]) {
      const env = cleanEnv({ OUTLINK_DATA_DIR: dataDir, OUTLINK_DATABASE_URL: url });
      const result = await runInProcess(['migrate'], { env });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr,
        'error database_unavailable: The database is not reachable.\n' +
          'remedy: Check that the database server is running and OUTLINK_DATABASE_URL is right.\n',
      );
    }
  });

  test('catalog errors are Japanese under LANG=ja_JP.UTF-8', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const env = databaseEnv(database, { LANG: 'ja_JP.UTF-8' });
      const result = await runInProcess(['links', 'show', 'nothing'], { env });
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        'error link_not_found: アプリケーション リンク nothing はありません。\n' +
          'remedy: GET /api/v1/links または outlink links list でリンクを一覧表示してください。\n',
      );
    } finally {
      await database.drop();
    }
  });

  test('migrate applies the migrations once and says so', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const env = databaseEnv(database);
      const first = await runInProcess(['migrate', '--json'], { env });
      assert.equal(first.code, 0, first.stderr);
      const { applied } = JSON.parse(first.stdout) as { applied: string[] };
      assert.ok(applied.length >= 1 && applied[0] === '0001-initial', first.stdout);
      const second = await runInProcess(['migrate'], { env });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, 'The database is up to date.\n');
      // migrate alone neither bootstraps the admin nor creates a key.
      assert.deepEqual(
        readdirSync(database.dataDir).filter((f) => !f.startsWith('outlink.db')),
        [],
      );
    } finally {
      await database.drop();
    }
  });
});
