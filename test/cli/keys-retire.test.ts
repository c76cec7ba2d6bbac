import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyIdOf, readKeyFile } from '../../src/crypto/keyring.js';
import { compileValidator } from '../../src/domain/validation.js';
import { MASTER_KEY_FILE } from '../../src/main/compose.js';
import { CreateLinkBody } from '../../src/schemas/links.js';
import { createTestDatabase, googleLink, type TestDatabase } from '../support/harness.js';
import { databaseEnv, errorCode, runInProcess, servicesFor } from './cli-harness.js';

const validateLink = compileValidator(CreateLinkBody);

/**
 * Issue 11: `outlink keys retire <keyId>` takes an old master key out of the key file, but
 * only once no stored secret is encrypted under it; it says what still uses it otherwise.
 */
describe('outlink keys retire', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const keyIds = () => readKeyFile(join(database.dataDir, MASTER_KEY_FILE)).map(keyIdOf);

  before(async () => {
    database = await createTestDatabase('sqlite');
    env = databaseEnv(database);
    const services = await servicesFor(database);
    try {
      await services.links.create({ kind: 'cli' }, validateLink(googleLink()));
    } finally {
      await services.close();
    }
  });
  after(() => database.drop());

  test('refuses the current key and an unknown one', async () => {
    const [current] = keyIds();
    const res = await runInProcess(['keys', 'retire', current!], { env });
    assert.equal(res.code !== 0, true);
    assert.equal(errorCode(res), 'key_is_current', res.stderr);
    const unknown = await runInProcess(['keys', 'retire', '0123456789abcdef'], { env });
    assert.equal(errorCode(unknown), 'key_not_found', unknown.stderr);
  });

  test('refuses an old key that still encrypts secrets, listing them, in en and ja', async () => {
    const old = keyIds()[0]!;
    // A new key at the head, without re-encrypting: as a rotation interrupted before its pass.
    const services = await servicesFor(database);
    const { writeKeyFile, generateMasterKey } = await import('../../src/crypto/keyring.js');
    const path = join(database.dataDir, MASTER_KEY_FILE);
    writeKeyFile(path, [generateMasterKey(), ...readKeyFile(path)]);
    await services.close();
    const res = await runInProcess(['keys', 'retire', old], { env });
    assert.equal(errorCode(res), 'key_in_use', res.stderr);
    assert.match(
      res.stderr,
      new RegExp(`Key ${old} still encrypts stored secrets: links\\.client_secret_enc \\(1\\)`),
    );
    assert.match(res.stderr, /outlink keys rotate/);
    const ja = await runInProcess(['keys', 'retire', old], {
      env: { ...env, LANG: 'ja_JP.UTF-8' },
    });
    assert.match(ja.stderr, /まだ保存済みのシークレットを暗号化しています/);
    assert.ok(keyIds().includes(old), 'the key stays in the file');
  });

  test('retires an old key once a rotation moved everything off it', async () => {
    const rotated = await runInProcess(['keys', 'rotate'], { env });
    assert.equal(rotated.code, 0, rotated.stderr);
    const ids = keyIds();
    const oldest = ids[ids.length - 1]!;
    const res = await runInProcess(['keys', 'retire', oldest], { env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^Retired key ${oldest}; the key file now holds `));
    assert.deepEqual(keyIds(), ids.slice(0, -1));
    // Everything still decrypts, and the retirement is an event.
    const services = await servicesFor(database);
    try {
      await services.keys.verify();
      const events = await services.store.db
        .selectFrom('events')
        .select(['type', 'data'])
        .where('type', '=', 'key.retired')
        .execute();
      assert.deepEqual(
        events.map((e) => JSON.parse(e.data)),
        [{ keyId: oldest }],
      );
    } finally {
      await services.close();
    }
  });
});
