import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A master key and the id stored inside every ciphertext it produced. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * How long a file-backed keyring encrypts under the key it last read before it looks at the
 * file again (issue 12: a `stat` before every encryption cost more than the encryption).
 * `outlink keys rotate` waits this long after writing the new key, so that once it
 * re-encrypts, no process encrypts under the old key any more.
 */
export const KEY_FILE_RECHECK_MS = 250;

/**
 * The master keys Outlink can decrypt with; the first is the one new secrets are encrypted
 * under. A file-backed keyring re-reads its file when it changed (for `current`, at most
 * `KEY_FILE_RECHECK_MS` after), so `outlink keys rotate` run from the CLI reaches a server
 * that keeps serving.
 */
export interface Keyring {
  current(): MasterKey;
  find(id: string): MasterKey | undefined;
  ids(): string[];
  /** Looks at the key file now (after writing it): `current` is the newest key at once. */
  reload(): void;
  /** Where the keys come from, for error messages. */
  readonly source: { readonly kind: 'env' } | { readonly kind: 'file'; readonly path: string };
}

/** The key id: the first 16 hex digits of SHA-256 over the key, so it names but never reveals it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function generateMasterKey(): Buffer {
  return randomBytes(32);
}

function toMasterKeys(keys: readonly Buffer[]): MasterKey[] {
  return keys.map((key) => ({ id: keyIdOf(key), key }));
}

/** A keyring over keys given in the environment (`OUTLINK_MASTER_KEY`, newest first). */
export function createStaticKeyring(keys: readonly Buffer[]): Keyring {
  const list = toMasterKeys(keys);
  if (list.length === 0) throw new Error('a keyring needs at least one key');
  return {
    current: () => list[0]!,
    find: (id) => list.find((k) => k.id === id),
    ids: () => list.map((k) => k.id),
    reload: () => undefined,
    source: { kind: 'env' },
  };
}

/** Reads a key file: one base64 key a line, newest first; `#` starts a comment. */
export function readKeyFile(path: string): Buffer[] {
  const keys = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => Buffer.from(line, 'base64'));
  if (keys.length === 0 || keys.some((k) => k.length !== 32)) {
    throw new Error(`${path} must hold base64 keys of 32 bytes, one a line`);
  }
  return keys;
}

/** Writes a key file atomically with mode 0600. */
export function writeKeyFile(path: string, keys: readonly Buffer[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const body = `# Outlink master keys, newest first. Keep this file secret and backed up.\n${keys
    .map((k) => k.toString('base64'))
    .join('\n')}\n`;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, body, { mode: 0o600 });
  renameSync(temp, path);
}

/** A keyring over a key file that it re-reads whenever the file is replaced or changes. */
export function createFileKeyring(path: string): Keyring {
  let stamp = '';
  let list: MasterKey[] = [];
  let lookedAt = 0;
  const refresh = () => {
    lookedAt = performance.now();
    const st = statSync(path);
    // The inode too: a key file replaced by rename can keep both size and mtime.
    const next = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (next === stamp) return;
    list = toMasterKeys(readKeyFile(path));
    stamp = next;
  };
  refresh();
  return {
    current: () => {
      if (performance.now() - lookedAt >= KEY_FILE_RECHECK_MS) refresh();
      return list[0]!;
    },
    find: (id) => {
      const hit = list.find((k) => k.id === id);
      if (hit) return hit;
      refresh();
      return list.find((k) => k.id === id);
    },
    ids: () => {
      refresh();
      return list.map((k) => k.id);
    },
    reload: refresh,
    source: { kind: 'file', path },
  };
}

export function keyFileExists(path: string): boolean {
  return existsSync(path);
}
