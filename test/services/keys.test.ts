import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createCipher } from '../../src/crypto/cipher.js';
import {
  createStaticKeyring,
  generateMasterKey,
  keyIdOf,
  readKeyFile,
} from '../../src/crypto/keyring.js';
import { isOutlinkError } from '../../src/domain/errors.js';
import { compose, MASTER_KEY_FILE, type Composition as Services } from '../../src/main/compose.js';
import { createLogger } from '../../src/main/log.js';
import { SECRET_COLUMNS } from '../../src/store/repositories/secrets.js';
import {
  ADMIN_PASSWORD,
  captureLog,
  Dialects,
  googleLink,
  startOutlink,
  type TestDatabase,
  type TestOutlink,
} from '../support/harness.js';

const b64 = (key: Buffer) => key.toString('base64');

/** A second process on the same database and data dir, as `outlink keys rotate` is. */
async function composeCli(database: TestDatabase, env: Record<string, string> = {}) {
  const config = loadConfig({
    OUTLINK_DATA_DIR: database.dataDir,
    OUTLINK_DATABASE_URL: database.url,
    OUTLINK_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...env,
  });
  const log = captureLog();
  return compose(config, { log: createLogger({ level: 'info', destination: log.stream }) });
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isOutlinkError(error), String(error));
    assert.equal(error.code, code);
    assert.equal(error.status, 500);
    return true;
  });
}

async function createLinks(outlink: TestOutlink, count: number) {
  const headers = await outlink.adminHeaders();
  const secrets = new Map<string, string>();
  for (let i = 0; i < count; i += 1) {
    const clientSecret = `GOCSPX-key-test-${i}-${randomUUID()}`;
    const res = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers,
      payload: googleLink({ clientSecret }),
    });
    assert.equal(res.statusCode, 201, res.body);
    secrets.set((res.json() as { id: string }).id, clientSecret);
  }
  return secrets;
}

/** A connection row with encrypted tokens, so rotation covers every secret column. */
async function insertConnection(services: Services, linkId: string) {
  const id = randomUUID();
  const now = services.clock.now().toISOString();
  await services.store.db
    .insertInto('connections')
    .values({
      id,
      link_id: linkId,
      account: `mailbox-${id.slice(0, 8)}@example.com`,
      status: 'valid',
      access_token_enc: services.cipher.encrypt('ya29.access', `connections.access_token:${id}`),
      refresh_token_enc: services.cipher.encrypt('1//refresh', `connections.refresh_token:${id}`),
      token_type: 'Bearer',
      expires_at: now,
      scopes: '[]',
      last_refreshed_at: now,
      last_error: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Key id of every stored ciphertext, per column. */
async function storedKeyIds(services: Services): Promise<string[]> {
  const ids: string[] = [];
  for (const col of SECRET_COLUMNS) {
    const rows = (await services.store.db
      .selectFrom(col.table)
      .select(`${col.column} as value`)
      .execute()) as { value: string | null }[];
    for (const row of rows) if (row.value) ids.push(services.cipher.keyIdOf(row.value));
  }
  return ids;
}

async function assertSecrets(services: Services, secrets: Map<string, string>) {
  for (const [id, secret] of secrets) {
    assert.equal(await services.links.clientSecret(id), secret, `link ${id}`);
  }
}

for (const dialect of Dialects) {
  describe(`master key at start on ${dialect}`, () => {
    it('generates a 0600 key file on an empty database and refuses a missing or wrong key later', async () => {
      const first = await startOutlink(dialect);
      const { database } = first;
      const keyFile = join(database.dataDir, MASTER_KEY_FILE);
      try {
        assert.equal(statSync(keyFile).mode & 0o777, 0o600);
        const secrets = await createLinks(first, 2);
        await first.close({ drop: false });
        const saved = readFileSync(keyFile);

        rmSync(keyFile);
        await rejectsWith(startOutlink(dialect, { database }), 'master_key_missing');
        assert.equal(existsSync(keyFile), false, 'a new key file was generated over old secrets');

        await rejectsWith(
          startOutlink(dialect, {
            database,
            env: { OUTLINK_MASTER_KEY: b64(generateMasterKey()) },
          }),
          'master_key_mismatch',
        );

        writeFileSync(keyFile, `${b64(generateMasterKey())}\n`, { mode: 0o600 });
        await rejectsWith(startOutlink(dialect, { database }), 'master_key_mismatch');

        writeFileSync(keyFile, saved, { mode: 0o600 });
        const again = await startOutlink(dialect, { database });
        try {
          await assertSecrets(again.services, secrets);
          const list = await again.app.inject({
            method: 'GET',
            url: '/api/v1/links',
            headers: await again.adminHeaders(),
          });
          assert.equal(list.statusCode, 200);
        } finally {
          await again.close({ drop: false });
        }
      } finally {
        await database.drop();
      }
    });

    it('explains the refusal in the catalog message, naming the key file', async () => {
      const first = await startOutlink(dialect);
      const { database } = first;
      try {
        await createLinks(first, 1);
        await first.close({ drop: false });
        rmSync(join(database.dataDir, MASTER_KEY_FILE));
        const error = await startOutlink(dialect, { database }).then(
          () => assert.fail('started'),
          (e: unknown) => e,
        );
        assert.ok(isOutlinkError(error));
        assert.equal(error.params.keyFile, join(database.dataDir, MASTER_KEY_FILE));
      } finally {
        await database.drop();
      }
    });

    it('uses OUTLINK_MASTER_KEY without writing a key file', async () => {
      const key = generateMasterKey();
      const outlink = await startOutlink(dialect, { env: { OUTLINK_MASTER_KEY: b64(key) } });
      try {
        await createLinks(outlink, 1);
        assert.equal(existsSync(join(outlink.database.dataDir, MASTER_KEY_FILE)), false);
        assert.deepEqual([...new Set(await storedKeyIds(outlink.services))], [keyIdOf(key)]);
      } finally {
        await outlink.close();
      }
    });
  });

  describe(`key rotation on ${dialect}`, () => {
    it('re-encrypts every secret under a new file key while the server keeps serving', async () => {
      const server = await startOutlink(dialect);
      const { database } = server;
      const keyFile = join(database.dataDir, MASTER_KEY_FILE);
      let cli: Services | undefined;
      let fresh: Services | undefined;
      try {
        const secrets = await createLinks(server, 3);
        const firstLink = [...secrets.keys()][0]!;
        await insertConnection(server.services, firstLink);
        const oldKeyId = server.services.cipher.keyring.current().id;
        assert.deepEqual([...new Set(await storedKeyIds(server.services))], [oldKeyId]);

        cli = await composeCli(database);
        const result = await cli.keys.rotate({ kind: 'cli' });
        assert.notEqual(result.keyId, oldKeyId);
        assert.equal(result.reencrypted, 3 + 2);
        const keys = readKeyFile(keyFile);
        assert.deepEqual(
          keys.map((k) => keyIdOf(k)),
          [result.keyId, oldKeyId],
        );
        assert.equal(statSync(keyFile).mode & 0o777, 0o600);

        const ids = await storedKeyIds(server.services);
        assert.equal(ids.length, 5);
        assert.deepEqual([...new Set(ids)], [result.keyId]);

        // The server saw none of this happen, yet reads every secret and writes under the new key.
        await assertSecrets(server.services, secrets);
        const headers = await server.adminHeaders();
        const updated = `GOCSPX-after-rotation-${randomUUID()}`;
        const patch = await server.app.inject({
          method: 'PATCH',
          url: `/api/v1/links/${firstLink}`,
          headers,
          payload: { clientSecret: updated },
        });
        assert.equal(patch.statusCode, 200, patch.body);
        secrets.set(firstLink, updated);
        for (const [id, secret] of await createLinks(server, 1)) secrets.set(id, secret);
        assert.deepEqual([...new Set(await storedKeyIds(server.services))], [result.keyId]);

        const events = await server.app.inject({
          method: 'GET',
          url: '/api/v1/events?type=key.rotated',
          headers,
        });
        const items = (events.json() as { items: { actor: string; data: unknown }[] }).items;
        assert.equal(items.length, 1);
        assert.equal(items[0]!.actor, 'cli');
        assert.deepEqual(items[0]!.data, { keyId: result.keyId, reencrypted: 5 });

        fresh = await composeCli(database);
        await assertSecrets(fresh, secrets);
        await assertSecrets(cli, secrets);
        assert.ok(!server.logLines.some((l) => keys.some((k) => l.includes(b64(k)))));
      } finally {
        await cli?.close();
        await fresh?.close();
        await server.close();
      }
    });

    it('also moves a secret written under the old key while the rotation runs', async () => {
      const server = await startOutlink(dialect);
      const { database } = server;
      let cli: Services | undefined;
      try {
        const secrets = await createLinks(server, 2);
        const oldKey = readKeyFile(join(database.dataDir, MASTER_KEY_FILE))[0]!;
        const [late] = [...secrets.keys()];
        const lateSecret = `GOCSPX-written-late-${randomUUID()}`;
        cli = await composeCli(database);
        let injected = false;
        const result = await cli.keys.rotate({ kind: 'cli' }, async () => {
          // A server that encrypted just before it saw the new key file commits now.
          if (injected) return;
          injected = true;
          const stale = createCipher(createStaticKeyring([oldKey])).encrypt(
            lateSecret,
            `links.client_secret:${late}`,
          );
          await server.services.store.db
            .updateTable('links')
            .set({ client_secret_enc: stale })
            .where('id', '=', late!)
            .execute();
        });
        assert.ok(injected);
        secrets.set(late!, lateSecret);
        assert.deepEqual([...new Set(await storedKeyIds(server.services))], [result.keyId]);
        await assertSecrets(server.services, secrets);
      } finally {
        await cli?.close();
        await server.close();
      }
    });

    it('moves everything to the first of OUTLINK_MASTER_KEY=new,old', async () => {
      const [oldKey, newKey] = [generateMasterKey(), generateMasterKey()];
      const server = await startOutlink(dialect, { env: { OUTLINK_MASTER_KEY: b64(oldKey) } });
      const { database } = server;
      let cli: Services | undefined;
      let restarted: TestOutlink | undefined;
      try {
        const secrets = await createLinks(server, 3);
        await insertConnection(server.services, [...secrets.keys()][1]!);
        await server.close({ drop: false });

        cli = await composeCli(database, { OUTLINK_MASTER_KEY: `${b64(newKey)},${b64(oldKey)}` });
        const result = await cli.keys.rotate({ kind: 'cli' });
        assert.equal(result.keyId, keyIdOf(newKey));
        assert.equal(result.reencrypted, 5);
        assert.deepEqual([...new Set(await storedKeyIds(cli))], [keyIdOf(newKey)]);
        assert.equal(existsSync(join(database.dataDir, MASTER_KEY_FILE)), false);
        // A second run has nothing left to do.
        assert.equal((await cli.keys.rotate({ kind: 'cli' })).reencrypted, 0);
        await cli.close();
        cli = undefined;

        await rejectsWith(
          startOutlink(dialect, { database, env: { OUTLINK_MASTER_KEY: b64(oldKey) } }),
          'master_key_mismatch',
        );
        restarted = await startOutlink(dialect, {
          database,
          env: { OUTLINK_MASTER_KEY: b64(newKey) },
        });
        await assertSecrets(restarted.services, secrets);
      } finally {
        await cli?.close();
        await restarted?.close({ drop: false });
        await database.drop();
      }
    });
  });
}
