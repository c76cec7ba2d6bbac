import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCipher } from '../../src/crypto/cipher.js';
import {
  createFileKeyring,
  createStaticKeyring,
  generateMasterKey,
  KEY_FILE_RECHECK_MS,
  keyIdOf,
  readKeyFile,
  writeKeyFile,
} from '../../src/crypto/keyring.js';

describe('keyring', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlink-keyring-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the key file with mode 0600, in a directory it creates with 0700', () => {
    const file = join(dir, 'fresh', 'master.key');
    const key = generateMasterKey();
    writeKeyFile(file, [key]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'fresh')).mode & 0o777, 0o700);
    assert.deepEqual(readKeyFile(file), [key]);
  });

  it('keeps mode 0600 when the file is rewritten', () => {
    const file = join(dir, 'rewritten.key');
    writeFileSync(file, 'placeholder', { mode: 0o644 });
    writeKeyFile(file, [generateMasterKey()]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('reads keys newest first, skipping comments and blank lines', () => {
    const file = join(dir, 'commented.key');
    const [a, b] = [generateMasterKey(), generateMasterKey()];
    writeFileSync(file, `# comment\n\n${a.toString('base64')}\n  ${b.toString('base64')}  \n`);
    const ring = createFileKeyring(file);
    assert.deepEqual(ring.ids(), [keyIdOf(a), keyIdOf(b)]);
    assert.equal(ring.current().id, keyIdOf(a));
    assert.deepEqual(ring.source, { kind: 'file', path: file });
  });

  it('refuses a key file without a usable 32-byte key', () => {
    const file = join(dir, 'bad.key');
    for (const body of ['', '# only a comment\n', `${Buffer.alloc(16).toString('base64')}\n`]) {
      writeFileSync(file, body);
      assert.throws(() => createFileKeyring(file), /32 bytes/);
    }
  });

  it('re-reads the file when it changes, so a rotation reaches a running server', async () => {
    const file = join(dir, 'rotating.key');
    const first = generateMasterKey();
    writeKeyFile(file, [first]);
    const ring = createFileKeyring(file);
    const cipher = createCipher(ring);
    const old = cipher.encrypt('before', 'aad');
    assert.equal(ring.current().id, keyIdOf(first));

    const second = generateMasterKey();
    writeKeyFile(file, [second, first]);
    assert.deepEqual(ring.ids(), [keyIdOf(second), keyIdOf(first)]);
    await sleep(KEY_FILE_RECHECK_MS);
    assert.equal(ring.current().id, keyIdOf(second));
    assert.equal(cipher.keyIdOf(cipher.encrypt('after', 'aad')), keyIdOf(second));
    assert.equal(cipher.decrypt(old, 'aad'), 'before');
  });

  it('looks at the file again only after KEY_FILE_RECHECK_MS before encrypting, or at reload()', async () => {
    const file = join(dir, 'recheck.key');
    const first = generateMasterKey();
    writeKeyFile(file, [first]);
    const ring = createFileKeyring(file);
    // Just read: the file is not looked at again, not even gone.
    rmSync(file);
    assert.equal(ring.current().id, keyIdOf(first));
    await sleep(KEY_FILE_RECHECK_MS);
    assert.throws(() => ring.current(), /ENOENT/);
    const second = generateMasterKey();
    writeKeyFile(file, [second]);
    await sleep(KEY_FILE_RECHECK_MS);
    assert.equal(ring.current().id, keyIdOf(second));
    const third = generateMasterKey();
    writeKeyFile(file, [third, second]);
    ring.reload();
    assert.equal(ring.current().id, keyIdOf(third));
  });

  it('re-reads a file replaced by one of the same size and mtime', () => {
    const file = join(dir, 'replaced.key');
    const first = generateMasterKey();
    writeKeyFile(file, [first]);
    const stamp = new Date('2026-01-01T00:00:00Z');
    utimesSync(file, stamp, stamp);
    const ring = createFileKeyring(file);
    const second = generateMasterKey();
    writeKeyFile(file, [second]);
    utimesSync(file, stamp, stamp);
    ring.reload();
    assert.equal(ring.current().id, keyIdOf(second));
  });

  it('finds a key another process added even before asking for the current one', () => {
    const file = join(dir, 'find.key');
    const first = generateMasterKey();
    writeKeyFile(file, [first]);
    const ring = createFileKeyring(file);
    const second = generateMasterKey();
    const foreign = createCipher(createStaticKeyring([second])).encrypt('from the CLI', 'aad');
    writeKeyFile(file, [second, first]);
    assert.equal(createCipher(ring).decrypt(foreign, 'aad'), 'from the CLI');
  });

  it('keeps environment keys in the given order, the first being current', () => {
    const [a, b] = [generateMasterKey(), generateMasterKey()];
    const ring = createStaticKeyring([a, b]);
    assert.equal(ring.current().id, keyIdOf(a));
    assert.equal(ring.find(keyIdOf(b))?.key, b);
    assert.equal(ring.find('0000000000000000'), undefined);
    assert.deepEqual(ring.source, { kind: 'env' });
    assert.throws(() => createStaticKeyring([]));
  });

  it('derives a key id that names the key without revealing it', () => {
    const key = generateMasterKey();
    assert.match(keyIdOf(key), /^[0-9a-f]{16}$/);
    assert.equal(keyIdOf(key), keyIdOf(Buffer.from(key)));
    assert.notEqual(keyIdOf(key), keyIdOf(generateMasterKey()));
    assert.ok(!key.toString('hex').startsWith(keyIdOf(key)));
  });
});
