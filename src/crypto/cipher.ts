import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * Envelope format: `ol1.<keyId>.<base64url(iv ‖ tag ‖ ciphertext)>`, AES-256-GCM with a
 * 96-bit random IV (NIST SP 800-38D §8.2.2). The associated data binds a ciphertext to the
 * row and column it belongs to, so a value copied into another row does not decrypt.
 */
export const CIPHERTEXT_PREFIX = 'ol1';

export interface Cipher {
  encrypt(plaintext: string, aad: string): string;
  decrypt(ciphertext: string, aad: string): string;
  /** The key id a ciphertext names, without decrypting it. */
  keyIdOf(ciphertext: string): string;
  readonly keyring: Keyring;
}

/** Thrown when a ciphertext cannot be decrypted; carries the key id, never the value. */
export class DecryptError extends Error {
  readonly keyId: string;
  constructor(keyId: string, reason: string) {
    super(`cannot decrypt a secret under key ${keyId}: ${reason}`);
    this.name = 'DecryptError';
    this.keyId = keyId;
  }
}

/** IVs drawn from the CSPRNG at a time (issue 12: one `getrandom` per encryption cost more here). */
const IVS_PER_DRAW = 256;
let ivs = Buffer.alloc(0);
let ivAt = 0;

/** A fresh random 96-bit IV: the next unused slice of one CSPRNG draw, never handed out twice. */
function nextIv(): Buffer {
  if (ivAt + 12 > ivs.length) {
    ivs = randomBytes(12 * IVS_PER_DRAW);
    ivAt = 0;
  }
  const iv = ivs.subarray(ivAt, ivAt + 12);
  ivAt += 12;
  return iv;
}

export function createCipher(keyring: Keyring): Cipher {
  return {
    keyring,
    encrypt(plaintext, aad) {
      const { id, key } = keyring.current();
      const iv = nextIv();
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return `${CIPHERTEXT_PREFIX}.${id}.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`;
    },
    decrypt(ciphertext, aad) {
      const { keyId, blob } = split(ciphertext);
      const entry = keyring.find(keyId);
      if (!entry) throw new DecryptError(keyId, 'the key is not in the keyring');
      if (blob.length < 28) throw new DecryptError(keyId, 'the ciphertext is truncated');
      const d = createDecipheriv('aes-256-gcm', entry.key, blob.subarray(0, 12));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(blob.subarray(12, 28));
      try {
        return Buffer.concat([d.update(blob.subarray(28)), d.final()]).toString('utf8');
      } catch {
        throw new DecryptError(keyId, 'authentication failed (wrong key or tampered value)');
      }
    },
    keyIdOf: (ciphertext) => split(ciphertext).keyId,
  };
}

function split(ciphertext: string): { keyId: string; blob: Buffer } {
  const parts = ciphertext.split('.');
  if (parts.length !== 3 || parts[0] !== CIPHERTEXT_PREFIX || !parts[1]) {
    throw new DecryptError('unknown', 'not an Outlink ciphertext');
  }
  return { keyId: parts[1], blob: Buffer.from(parts[2] ?? '', 'base64url') };
}
