import { hash, randomBytes } from 'node:crypto';

/** An opaque bearer secret with a recognisable prefix (so secret scanners can find leaks). */
export function generateToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of a high-entropy token: enough for lookup, since it cannot be guessed. One-shot
 * `hash` (no Hash object per call): every API request hashes its bearer token (issue 12).
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}
