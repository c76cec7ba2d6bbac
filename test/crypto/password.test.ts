import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePassword, hashPassword, verifyPassword } from '../../src/crypto/password.js';
import { generateToken, hashToken } from '../../src/crypto/tokens.js';

describe('passwords and tokens', () => {
  it('hashes passwords with salted scrypt and verifies them', async () => {
    const password = 'correct-horse-battery-staple';
    const [a, b] = [await hashPassword(password), await hashPassword(password)];
    assert.match(a, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.notEqual(a, b, 'no salt');
    assert.ok(!a.includes(password));
    assert.equal(await verifyPassword(password, a), true);
    assert.equal(await verifyPassword(`${password}!`, a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('refuses stored values that are not scrypt hashes', async () => {
    for (const stored of ['', 'plain', 'bcrypt$x$y', 'scrypt$32768$8$1$$']) {
      assert.equal(await verifyPassword('anything', stored), false, stored);
    }
  });

  it('generates long random passwords and prefixed tokens', () => {
    assert.match(generatePassword(), /^[\w-]{24}$/);
    assert.notEqual(generatePassword(), generatePassword());
    const token = generateToken('olk');
    assert.match(token, /^olk_[\w-]{43}$/);
    assert.match(hashToken(token), /^[0-9a-f]{64}$/);
    assert.equal(hashToken(token), hashToken(token));
    assert.notEqual(hashToken(token), hashToken(generateToken('olk')));
  });
});
