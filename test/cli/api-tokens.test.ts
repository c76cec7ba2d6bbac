import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { INITIAL_ADMIN_PASSWORD_FILE } from '../../src/main/compose.js';
import { createTestDatabase, Dialects, type TestDatabase } from '../support/harness.js';
import {
  cleanEnv,
  databaseEnv,
  errorCode,
  runCli,
  runInProcess,
  servicesFor,
} from './cli-harness.js';

const TOKEN_LINE = /^(olk_[\w-]{20,})\n$/;

describe('outlink api-tokens create', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let database: TestDatabase;
      let env: Record<string, string>;
      let linkId: string;
      before(async () => {
        database = await createTestDatabase(dialect);
        env = databaseEnv(database);
        const created = await runInProcess(
          [
            'links',
            'create',
            '--name',
            'Support mailbox',
            '--provider',
            'google',
            '--client-id',
            'id',
            '--client-secret',
            'token-test-secret',
            '--json',
          ],
          { env },
        );
        assert.equal(created.code, 0, created.stderr);
        linkId = (JSON.parse(created.stdout) as { id: string }).id;
      });
      after(() => database.drop());

      test('prints the token alone, and the token authenticates', async () => {
        const [admin, reader] = await Promise.all([
          runCli(['api-tokens', 'create', '--name', 'backup job'], { env }),
          runCli(['api-tokens', 'create', '--name', 'imap reader', '--link', 'Support mailbox'], {
            env,
          }),
        ]);
        assert.equal(admin.code, 0, admin.stderr);
        assert.equal(reader.code, 0, reader.stderr);
        const adminToken = TOKEN_LINE.exec(admin.stdout)?.[1];
        const readerToken = TOKEN_LINE.exec(reader.stdout)?.[1];
        assert.ok(adminToken && readerToken, `${admin.stdout}${reader.stdout}`);
        assert.equal(admin.stderr, '');

        const services = await servicesFor(database);
        const app = await buildApp(services);
        try {
          assert.deepEqual((await services.apiTokens.authenticate(adminToken))?.actor, {
            kind: 'api-token',
            id: (await services.apiTokens.list()).find((t) => t.name === 'backup job')?.id,
            name: 'backup job',
            scopes: ['admin'],
            linkIds: [],
            connectionIds: [],
          });
          // A token limited to a link defaults to reading its tokens, nothing more.
          const limited = (await services.apiTokens.authenticate(readerToken))?.actor;
          assert.equal(limited?.kind, 'api-token');
          assert.deepEqual(limited.kind === 'api-token' && [limited.scopes, limited.linkIds], [
            ['token:read'],
            [linkId],
          ]);

          const asAdmin = await app.inject({
            method: 'GET',
            url: `/api/v1/links/${linkId}`,
            headers: { authorization: `Bearer ${adminToken}` },
          });
          assert.equal(asAdmin.statusCode, 200, asAdmin.body);
          const forged = await app.inject({
            method: 'GET',
            url: `/api/v1/links/${linkId}`,
            headers: { authorization: `Bearer ${adminToken}x` },
          });
          assert.equal(forged.statusCode, 401);

          const { items } = await services.events.list({ limit: 10, type: 'api_token.created' });
          assert.deepEqual(
            items.map((e) => e.actor),
            ['cli', 'cli'],
          );
          assert.ok(!JSON.stringify(items).includes(adminToken));
        } finally {
          await app.close();
          await services.close();
        }
      });
    });
  }

  test('bad values exit 1 with the catalog code and create no token', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const env = databaseEnv(database);
      const cases: [string[], string, string][] = [
        [[], 'field_required', 'The field "--name" is required.'],
        [['--name', ' '], 'field_invalid', 'The field "--name" has an invalid value'],
        [['--name', 'x', '--scope', 'root'], 'field_invalid', 'The field "--scope'],
        [['--name', 'x', '--link', 'No such link'], 'link_not_found', 'No such link'],
        [['--name', 'x', '--connection', 'not-a-uuid'], 'field_invalid', '"--connection'],
      ];
      for (const [args, code, message] of cases) {
        const result = await runInProcess(['api-tokens', 'create', ...args], { env });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(errorCode(result), code, result.stderr);
        assert.ok(result.stderr.includes(message), result.stderr);
        assert.equal(result.stdout, '');
      }
      const services = await servicesFor(database);
      try {
        assert.deepEqual(await services.apiTokens.list(), []);
      } finally {
        await services.close();
      }
    } finally {
      await database.drop();
    }
  });

  test('on a fresh data dir the generated admin password goes to stderr, not stdout', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const env = cleanEnv({ OUTLINK_DATA_DIR: database.dataDir, OUTLINK_LOG_LEVEL: 'warn' });
      const result = await runCli(['api-tokens', 'create', '--name', 'first'], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, TOKEN_LINE);
      const password = readFileSync(join(database.dataDir, INITIAL_ADMIN_PASSWORD_FILE), 'utf8');
      assert.equal(
        result.stderr,
        `Generated the password of user "admin" (shown once; also in ${join(database.dataDir, INITIAL_ADMIN_PASSWORD_FILE)}, which is deleted when the password is changed): ${password}`,
      );
    } finally {
      await database.drop();
    }
  });
});
