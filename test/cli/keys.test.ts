import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateMasterKey, keyIdOf, readKeyFile } from '../../src/crypto/keyring.js';
import { compileValidator } from '../../src/domain/validation.js';
import { MASTER_KEY_FILE, type Composition as Services } from '../../src/main/compose.js';
import { CreateLinkBody } from '../../src/schemas/links.js';
import { createTestDatabase, Dialects, googleLink, type TestDatabase } from '../support/harness.js';
import { databaseEnv, errorCode, runCli, runInProcess, servicesFor } from './cli-harness.js';

const MARKER = 'GOCSPX-rotate-marker-5e1f';
const validateLink = compileValidator(CreateLinkBody);

/** The key id inside the stored ciphertext of the link's client secret. */
async function storedKeyId(services: Services, linkId: string): Promise<string> {
  const row = await services.store.db
    .selectFrom('links')
    .select('client_secret_enc')
    .where('id', '=', linkId)
    .executeTakeFirstOrThrow();
  return services.cipher.keyIdOf(row.client_secret_enc);
}

/** Opens the services on the database, runs `fn`, closes them. */
async function inspect<T>(database: TestDatabase, fn: (s: Services) => Promise<T>): Promise<T> {
  const services = await servicesFor(database);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

describe('outlink keys rotate', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let database: TestDatabase;
      let linkId: string;
      before(async () => {
        database = await createTestDatabase(dialect);
        linkId = await inspect(database, async ({ links }) => {
          const body = validateLink(googleLink({ clientSecret: MARKER }));
          const { link } = await links.create({ kind: 'cli' }, body);
          return link.id;
        });
      });
      after(() => database.drop());

      test('re-encrypts every secret under a new key from the key file', async () => {
        const before = await inspect(database, (s) => storedKeyId(s, linkId));
        const env = databaseEnv(database);
        const result = await runCli(['keys', 'rotate'], { env });
        assert.equal(result.code, 0, result.stderr);
        const done =
          /^Now encrypting with key ([0-9a-f]{16}); re-encrypted 1 secret\(s\)\.\n$/.exec(
            result.stdout,
          );
        assert.ok(done, result.stdout);
        const keyId = done[1]!;
        assert.notEqual(keyId, before);
        assert.match(result.stderr, /^re-encrypted 1\/1$/m);
        assert.ok(!result.stdout.includes(MARKER) && !result.stderr.includes(MARKER));

        // The new key leads the file; the old one stays for servers that have not re-read it.
        const keys = readKeyFile(join(database.dataDir, MASTER_KEY_FILE)).map(keyIdOf);
        assert.deepEqual(keys, [keyId, before]);
        await inspect(database, async (s) => {
          assert.equal(await storedKeyId(s, linkId), keyId);
          assert.equal(await s.links.clientSecret(linkId), MARKER);
          const { items } = await s.events.list({ limit: 10, type: 'key.rotated' });
          assert.deepEqual(
            items.map((e) => [e.actor, e.data]),
            [['cli', { keyId, reencrypted: 1 }]],
          );
        });

        const again = await runInProcess(['keys', 'rotate', '--json'], { env });
        assert.equal(again.code, 0, again.stderr);
        const second = JSON.parse(again.stdout) as { keyId: string; reencrypted: number };
        assert.equal(second.reencrypted, 1);
        assert.notEqual(second.keyId, keyId);
        await inspect(database, async (s) => {
          assert.equal(await storedKeyId(s, linkId), second.keyId);
          assert.equal(await s.links.clientSecret(linkId), MARKER);
        });
      });
    });
  }

  test('with OUTLINK_MASTER_KEY, re-encrypts under the first key given', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const [oldKey, newKey] = [generateMasterKey(), generateMasterKey()];
      const env = databaseEnv(database, { OUTLINK_MASTER_KEY: oldKey.toString('base64') });
      const created = await runInProcess(
        [
          'links',
          'create',
          '--name',
          'Env key',
          '--provider',
          'google',
          '--client-id',
          'i',
          '--client-secret-stdin',
          '--json',
        ],
        { env, input: MARKER },
      );
      assert.equal(created.code, 0, created.stderr);
      const { id } = JSON.parse(created.stdout) as { id: string };

      const rotated = await runInProcess(['keys', 'rotate', '--json'], {
        env: {
          ...env,
          OUTLINK_MASTER_KEY: `${newKey.toString('base64')},${oldKey.toString('base64')}`,
        },
      });
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.deepEqual(JSON.parse(rotated.stdout), { keyId: keyIdOf(newKey), reencrypted: 1 });

      // Only the new key is needed from now on; the old one alone no longer reads the secret.
      const newOnly = { ...env, OUTLINK_MASTER_KEY: newKey.toString('base64') };
      const shown = await runInProcess(['links', 'show', id], { env: newOnly });
      assert.equal(shown.code, 0, shown.stderr);
      const oldOnly = await runInProcess(['links', 'show', id], { env });
      assert.equal(oldOnly.code, 1);
      assert.equal(errorCode(oldOnly), 'master_key_mismatch');
    } finally {
      await database.drop();
    }
  });
});
