import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIPHERTEXT_PREFIX, createCipher, DecryptError } from '../../src/crypto/cipher.js';
import { createStaticKeyring, generateMasterKey, keyIdOf } from '../../src/crypto/keyring.js';

const AAD = 'links.client_secret:7a0c1f55-0000-4000-8000-000000000001';
const OTHER_AAD = 'links.client_secret:7a0c1f55-0000-4000-8000-000000000002';

/** Flips one bit of the decoded body at `index`, keeping the envelope well-formed. */
function tamper(ciphertext: string, index: number): string {
  const [prefix, keyId, body] = ciphertext.split('.');
  const bytes = Buffer.from(body!, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  return `${prefix}.${keyId}.${bytes.toString('base64url')}`;
}

function assertDecryptError(fn: () => unknown, keyId: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DecryptError, String(error));
    assert.equal(error.keyId, keyId);
    return true;
  });
}

describe('cipher', () => {
  const key = generateMasterKey();
  const cipher = createCipher(createStaticKeyring([key]));

  it('round-trips text, unicode and the empty string', () => {
    for (const plain of ['GOCSPX-abc', 'パスワード🔑', '', 'x'.repeat(4096)]) {
      assert.equal(cipher.decrypt(cipher.encrypt(plain, AAD), AAD), plain);
    }
  });

  it('names its key id in the envelope and never holds the plaintext', () => {
    const plain = 'GOCSPX-visible-marker';
    const ciphertext = cipher.encrypt(plain, AAD);
    const [prefix, keyId, body] = ciphertext.split('.');
    assert.equal(prefix, CIPHERTEXT_PREFIX);
    assert.equal(keyId, keyIdOf(key));
    assert.match(keyId!, /^[0-9a-f]{16}$/);
    assert.equal(cipher.keyIdOf(ciphertext), keyIdOf(key));
    // 12-byte IV, 16-byte tag, then as many bytes as the plaintext.
    assert.equal(Buffer.from(body!, 'base64url').length, 12 + 16 + Buffer.byteLength(plain));
    assert.ok(!ciphertext.includes(plain));
    assert.ok(!ciphertext.includes(Buffer.from(plain).toString('base64')));
    assert.ok(!ciphertext.includes(key.toString('base64url')));
  });

  it('uses a fresh IV each time', () => {
    const a = cipher.encrypt('same', AAD);
    const b = cipher.encrypt('same', AAD);
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[2]!.slice(0, 16), b.split('.')[2]!.slice(0, 16));
    // IVs come from draws of 256 (issue 12): across several draws, never one twice.
    const ivs = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const blob = Buffer.from(cipher.encrypt('same', AAD).split('.')[2]!, 'base64url');
      ivs.add(blob.subarray(0, 12).toString('hex'));
    }
    assert.equal(ivs.size, 1_000);
  });

  it('refuses a tampered ciphertext, IV or tag', () => {
    const ciphertext = cipher.encrypt('GOCSPX-abc', AAD);
    const id = keyIdOf(key);
    assertDecryptError(() => cipher.decrypt(tamper(ciphertext, 0), AAD), id); // IV
    assertDecryptError(() => cipher.decrypt(tamper(ciphertext, 12), AAD), id); // tag
    assertDecryptError(() => cipher.decrypt(tamper(ciphertext, 30), AAD), id); // body
    const [p, k, body] = ciphertext.split('.');
    const truncated = `${p}.${k}.${Buffer.from(body!, 'base64url').subarray(0, 20).toString('base64url')}`;
    assertDecryptError(() => cipher.decrypt(truncated, AAD), id);
  });

  it('refuses a value copied to another row (wrong associated data)', () => {
    const ciphertext = cipher.encrypt('GOCSPX-abc', AAD);
    assertDecryptError(() => cipher.decrypt(ciphertext, OTHER_AAD), keyIdOf(key));
    assertDecryptError(
      () => cipher.decrypt(ciphertext, 'connections.access_token:7a0c1f55'),
      keyIdOf(key),
    );
  });

  it('refuses a key id the keyring lacks, and a wrong key under a forged id', () => {
    const other = generateMasterKey();
    const foreign = createCipher(createStaticKeyring([other])).encrypt('GOCSPX-abc', AAD);
    assertDecryptError(() => cipher.decrypt(foreign, AAD), keyIdOf(other));
    const forged = foreign.replace(keyIdOf(other), keyIdOf(key));
    assertDecryptError(() => cipher.decrypt(forged, AAD), keyIdOf(key));
  });

  it('refuses what is not an envelope at all', () => {
    for (const junk of ['', 'plain text', 'ol2.abc.def', 'ol1..abc', 'ol1.a.b.c']) {
      assert.throws(() => cipher.decrypt(junk, AAD), DecryptError, junk);
      assert.throws(() => cipher.keyIdOf(junk), DecryptError, junk);
    }
  });

  it('encrypts under the first key and decrypts under any key of the keyring', () => {
    const older = generateMasterKey();
    const newer = generateMasterKey();
    const old = createCipher(createStaticKeyring([older])).encrypt('legacy', AAD);
    const both = createCipher(createStaticKeyring([newer, older]));
    assert.equal(both.decrypt(old, AAD), 'legacy');
    assert.equal(both.keyIdOf(both.encrypt('fresh', AAD)), keyIdOf(newer));
  });

  it('keeps the plaintext and the key out of the error message', () => {
    const ciphertext = cipher.encrypt('GOCSPX-never-in-errors', AAD);
    try {
      cipher.decrypt(ciphertext, OTHER_AAD);
      assert.fail('decrypted');
    } catch (error) {
      assert.ok(error instanceof DecryptError);
      assert.ok(!error.message.includes('GOCSPX'));
      assert.ok(!error.message.includes(key.toString('base64')));
      assert.ok(!error.message.includes(ciphertext));
    }
  });
});
